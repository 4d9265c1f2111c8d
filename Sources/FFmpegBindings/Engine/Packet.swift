import CFFmpeg

/// An `AVPacket` owner: one compressed unit on its way from a demuxer to a
/// decoder, or from an encoder to a muxer.
final class Packet {
    let pointer: UnsafeMutablePointer<AVPacket>

    init() throws(FFmpegError) {
        guard let pointer = av_packet_alloc() else { throw .outOfMemory("av_packet_alloc") }
        self.pointer = pointer
    }

    deinit {
        var doomed: UnsafeMutablePointer<AVPacket>? = pointer
        av_packet_free(&doomed)
    }

    func unref() { av_packet_unref(pointer) }

    var streamIndex: Int32 { pointer.pointee.stream_index }

    /// The presentation time, or the decoding time when there is none.
    var time: Int64? {
        let pts = pointer.pointee.pts != kiln_av_nopts_value() ? pointer.pointee.pts : pointer.pointee.dts
        return pts == kiln_av_nopts_value() ? nil : pts
    }
}
