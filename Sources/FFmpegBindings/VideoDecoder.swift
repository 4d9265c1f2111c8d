import CFFmpeg
import CFFmpegShims

/// A decoder for one video stream of an open `Demuxer`.
///
/// `~Copyable`: one owner frees the codec context exactly once.
public struct VideoDecoder: ~Copyable {
    let context: UnsafeMutablePointer<AVCodecContext>
    public let streamIndex: Int32
    public let timeBase: AVRational
    /// Clockwise degrees a player turns the picture (the stream's display matrix).
    public let rotation: Int

    /// Opens the best video stream; `maxPixels` bounds what the decoder will
    /// allocate for one frame, whatever the header claimed.
    public init(_ demuxer: borrowing Demuxer, maxPixels: Int) throws(FFmpegError) {
        var codec: UnsafePointer<AVCodec>? = nil
        let index = av_find_best_stream(demuxer.context, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0)
        guard index >= 0, let codec, let stream = demuxer.context.pointee.streams[Int(index)] else {
            throw .invalidData(message: "no video stream")
        }
        let width = Int(stream.pointee.codecpar.pointee.width), height = Int(stream.pointee.codecpar.pointee.height)
        guard width * height <= maxPixels else {
            throw .tooLarge(message: "the video is \(width)x\(height); the limit is \(maxPixels) pixels")
        }
        guard let context = avcodec_alloc_context3(codec) else {
            throw .failed(operation: "avcodec_alloc_context3", code: kiln_averror(ENOMEM), message: "out of memory")
        }
        var owned: UnsafeMutablePointer<AVCodecContext>? = context
        let copied = avcodec_parameters_to_context(context, stream.pointee.codecpar)
        guard copied >= 0 else {
            avcodec_free_context(&owned)
            throw FFmpegError.from(copied, operation: "parameters_to_context")
        }
        context.pointee.max_pixels = Int64(maxPixels)
        context.pointee.pkt_timebase = stream.pointee.time_base
        let opened = avcodec_open2(context, codec, nil)
        guard opened >= 0 else {
            avcodec_free_context(&owned)
            throw FFmpegError.from(opened, operation: "avcodec_open2")
        }
        self.context = context
        streamIndex = index
        timeBase = stream.pointee.time_base
        rotation = Int(kiln_stream_rotation(stream))
    }

    deinit {
        var doomed: UnsafeMutablePointer<AVCodecContext>? = context
        avcodec_free_context(&doomed)
    }

    /// Sends one packet (nil drains the decoder at the end of the stream).
    func send(_ packet: UnsafeMutablePointer<AVPacket>?) throws(FFmpegError) {
        let sent = avcodec_send_packet(context, packet)
        if sent < 0 && sent != kiln_averror(EAGAIN) && sent != kiln_averror_eof() { throw FFmpegError.from(sent, operation: "send_packet") }
    }

    /// The next decoded frame into `frame`; false when the decoder needs more input or is drained.
    func receive(into frame: UnsafeMutablePointer<AVFrame>) throws(FFmpegError) -> Bool {
        let received = avcodec_receive_frame(context, frame)
        if received == kiln_averror(EAGAIN) || received == kiln_averror_eof() { return false }
        guard received >= 0 else { throw FFmpegError.from(received, operation: "receive_frame") }
        return true
    }

    func flush() { avcodec_flush_buffers(context) }
}
