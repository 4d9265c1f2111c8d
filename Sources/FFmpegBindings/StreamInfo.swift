import CFFmpeg

/// What a probe tells about one stream, copied out of FFmpeg's structs.
public struct StreamInfo: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable { case video, audio, subtitle, data, other }

    public var index: Int
    public var kind: Kind
    public var codec: String
    public var width: Int?
    public var height: Int?
    public var frameRate: Double?
    public var sampleRate: Int?
    public var channels: Int?
    public var duration: Double?
    public var bitRate: Int?
    /// Codec profile, e.g. `High` or `LC`.
    public var profile: String?
    /// Clockwise degrees a player turns the picture (display matrix), video only.
    public var rotation: Int?
    /// An embedded picture (cover art), not a moving stream.
    public var isCoverArt: Bool

    init(stream: UnsafeMutablePointer<AVStream>) {
        let parameters = stream.pointee.codecpar.pointee
        index = Int(stream.pointee.index)
        kind = switch parameters.codec_type {
        case AVMEDIA_TYPE_VIDEO: .video
        case AVMEDIA_TYPE_AUDIO: .audio
        case AVMEDIA_TYPE_SUBTITLE: .subtitle
        case AVMEDIA_TYPE_DATA: .data
        default: .other
        }
        codec = avcodec_get_name(parameters.codec_id).map { String(cString: $0) } ?? "unknown"
        if kind == .video {
            width = Int(parameters.width)
            height = Int(parameters.height)
            let rate = stream.pointee.avg_frame_rate
            frameRate = rate.den > 0 && rate.num > 0 ? av_q2d(rate) : nil
        }
        if kind == .audio {
            sampleRate = Int(parameters.sample_rate)
            channels = Int(parameters.ch_layout.nb_channels)
        }
        let d = stream.pointee.duration
        duration = d != kiln_av_nopts_value() && d > 0 ? Double(d) * av_q2d(stream.pointee.time_base) : nil
        bitRate = parameters.bit_rate > 0 ? Int(parameters.bit_rate) : nil
        profile = avcodec_profile_name(parameters.codec_id, parameters.profile).map { String(cString: $0) }
        isCoverArt = stream.pointee.disposition & AV_DISPOSITION_ATTACHED_PIC != 0
        if kind == .video && !isCoverArt { rotation = DisplayMatrix.rotation(of: stream) }
    }
}
