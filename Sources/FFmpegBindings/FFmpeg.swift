import CFFmpeg

/// Process-wide FFmpeg set-up: quiets `av_log` (it writes to stderr from any thread)
/// down to errors. libav* needs no other global initialisation since FFmpeg 4.
public enum FFmpeg {
    private static let configured: Void = {
        av_log_set_level(AV_LOG_ERROR)
    }()

    public static func start() {
        _ = configured
    }

    public static var versions: String {
        "libavformat \(avformat_version() >> 16), libavcodec \(avcodec_version() >> 16)"
    }

    /// Demuxers Kiln accepts. Everything that can reference other files or URLs
    /// (hls, concat, image2, lavfi, sdp, ...) is absent on purpose.
    public static let mediaDemuxers = [
        "mov", "mp4", "m4a", "3gp", "matroska", "webm", "mp3", "wav", "ogg", "flac", "aac", "avi", "mpegts",
    ]
}
