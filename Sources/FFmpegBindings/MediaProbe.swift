/// A container-level summary of a media file: what `probe` reports and what the
/// media record's duration and dimensions come from. Reads headers only.
public struct MediaProbe: Sendable, Equatable, Codable {
    public var format: String
    public var duration: Double?
    public var bitRate: Int?
    public var streams: [StreamInfo]
    /// Container tags worth showing (title, artist, album, ...), lower-case keys.
    public var tags: [String: String]

    public var video: StreamInfo? { streams.first { $0.kind == .video && !$0.isCoverArt } }
    public var audio: StreamInfo? { streams.first { $0.kind == .audio } }

    public init(path: String, interrupt: InterruptFlag = InterruptFlag()) throws(FFmpegError) {
        let demuxer = try Demuxer(path: path, interrupt: interrupt)
        format = demuxer.formatName
        duration = demuxer.duration
        bitRate = demuxer.bitRate
        streams = demuxer.streams
        tags = demuxer.tags(Self.tagNames)
    }

    static let tagNames = ["title", "artist", "album", "album_artist", "date", "genre", "track", "comment", "composer", "creation_time"]

    /// The embedded cover picture's bytes and codec (`mjpeg`, `png`), if there is one.
    public static func coverArt(path: String, interrupt: InterruptFlag = InterruptFlag()) throws(FFmpegError) -> (bytes: [UInt8], codec: String)? {
        let demuxer = try Demuxer(path: path, interrupt: interrupt)
        return demuxer.coverArt
    }
}
