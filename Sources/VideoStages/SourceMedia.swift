import PipelineEngine

/// The demuxer FFmpeg picked is the decoder's own verdict on a file the upload
/// sniffer judged from a few bytes: it must be one that carries the kind of
/// media the job was accepted for.
enum SourceMedia {
    /// FFmpeg demuxer names (as `AVInputFormat.name` reports them) per kind.
    static let demuxers: [MediaKind: Set<String>] = [
        .video: ["mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "ogg", "avi", "mpegts"],
        .audio: ["mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "ogg", "mp3", "wav", "flac", "aac"],
    ]

    static func confirm(format: String, kind: MediaKind) throws(StageError) {
        guard demuxers[kind]?.contains(format) == true else {
            throw StageError(code: "unsupported_format", message: "FFmpeg reads this file as \(format), not as \(kind) Kiln accepts")
        }
    }
}
