/// A container-level summary of a media file: what `probe` reports and what the
/// media record's duration and dimensions come from. Reads headers only.
public struct MediaProbe: Sendable, Equatable, Codable {
    public var format: String
    public var duration: Double?
    public var bitRate: Int?
    public var streams: [StreamInfo]

    public var video: StreamInfo? { streams.first { $0.kind == .video } }
    public var audio: StreamInfo? { streams.first { $0.kind == .audio } }

    public init(path: String, interrupt: InterruptFlag = InterruptFlag()) throws(FFmpegError) {
        let demuxer = try Demuxer(path: path, interrupt: interrupt)
        format = demuxer.formatName
        duration = demuxer.duration
        bitRate = demuxer.bitRate
        streams = demuxer.streams
    }
}
