import FFmpegBindings
import StageSupport
import PipelineEngine

/// The demuxer FFmpeg picks is the decoder's own verdict on a file the upload
/// sniffer judged from a few bytes: it must be one that carries the kind of
/// media the job was accepted for, and what its headers declare must be within
/// the limits. Checked once per job (`SourceInspector`), before any step.
enum SourceMedia {
    /// FFmpeg demuxer names (as `AVInputFormat.name` reports them) per kind.
    static let demuxers: [MediaKind: Set<String>] = [
        .video: ["mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "ogg", "avi", "mpegts"],
        .audio: ["mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "ogg", "mp3", "wav", "flac", "aac"],
    ]

    static func inspect(_ source: SourceFile, limits: ProcessingLimits) throws(StageError) -> MediaProbe {
        let probe = try withFFmpeg("probe", stop: StopToken()) { interrupt in try MediaProbe(path: source.path, interrupt: interrupt) }
        guard demuxers[source.kind]?.contains(probe.format) == true else {
            throw StageError(code: "unsupported_format", message: "FFmpeg reads this file as \(probe.format), not as \(source.kind) Kiln accepts")
        }
        if let duration = probe.duration, duration > limits.maxDurationSeconds {
            throw StageError.inputTooLarge("duration \(Int(duration)) s exceeds the limit of \(Int(limits.maxDurationSeconds)) s")
        }
        if let video = probe.video, let width = video.width, let height = video.height, width * height > limits.maxImagePixels {
            throw StageError.inputTooLarge("the video is \(width)x\(height); the limit is \(limits.maxImagePixels) pixels")
        }
        return probe
    }
}
