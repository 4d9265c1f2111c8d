import CFFmpeg
import CFFmpegShims

/// Decodes the best audio stream of a file once, start to end, handing the
/// samples on as interleaved floats with `channels` channels.
public enum AudioSamples {
    public struct Format: Sendable {
        public var sampleRate: Int
        public var channels: Int
        /// The container's duration in seconds, 0 when unknown.
        public var duration: Double
    }

    /// - Parameter channels: nil keeps the source's count, at most 2.
    /// - Parameter maxSeconds: the duration limit, applied to what is decoded (a header may say less, or nothing).
    public static func decode(path: String, channels: Int?, maxSeconds: Double = .infinity, interrupt: InterruptFlag = InterruptFlag(),
                              start: (Format) -> Void = { _ in },
                              each: (UnsafeBufferPointer<Float>) throws(FFmpegError) -> Void) throws(FFmpegError) {
        let demuxer = try Demuxer(path: path, interrupt: interrupt)
        var codec: UnsafePointer<AVCodec>? = nil
        let index = av_find_best_stream(demuxer.context, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0)
        guard index >= 0, let codec, let stream = demuxer.context.pointee.streams[Int(index)] else { throw .invalidData(message: "no audio stream") }
        var decoder = avcodec_alloc_context3(codec)
        guard let context = decoder else { throw .failed(operation: "avcodec_alloc_context3", code: kiln_averror(ENOMEM), message: "out of memory") }
        defer { avcodec_free_context(&decoder) }
        var status = avcodec_parameters_to_context(context, stream.pointee.codecpar)
        if status >= 0 { context.pointee.pkt_timebase = stream.pointee.time_base; status = avcodec_open2(context, codec, nil) }
        guard status >= 0 else { throw FFmpegError.from(status, operation: "open audio decoder") }
        let outputChannels = channels ?? min(2, max(1, Int(context.pointee.ch_layout.nb_channels)))
        var resampler = kiln_swr_to_float(context, Int32(outputChannels))
        guard resampler != nil else { throw .invalidData(message: "unsupported audio layout") }
        defer { swr_free(&resampler) }
        guard context.pointee.sample_rate > 0 else { throw .invalidData(message: "no sample rate") }
        start(Format(sampleRate: Int(context.pointee.sample_rate), channels: outputChannels, duration: demuxer.duration ?? 0))

        var buffer = [Float](repeating: 0, count: 1 << 16)
        guard let packet = av_packet_alloc() else { throw .failed(operation: "av_packet_alloc", code: kiln_averror(ENOMEM), message: "out of memory") }
        var frame = av_frame_alloc()
        defer {
            var doomed: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&doomed)
            av_frame_free(&frame)
        }
        guard let frame else { throw .failed(operation: "av_frame_alloc", code: kiln_averror(ENOMEM), message: "out of memory") }
        var decodedAny = false
        var decodedSamples = 0
        func drain() throws(FFmpegError) {
            while true {
                let received = avcodec_receive_frame(context, frame)
                if received == kiln_averror(EAGAIN) || received == kiln_averror_eof() { return }
                guard received >= 0 else { throw FFmpegError.from(received, operation: "receive_frame") }
                defer { av_frame_unref(frame) }
                let needed = (Int(frame.pointee.nb_samples) + 256) * outputChannels
                if buffer.count < needed { buffer = [Float](repeating: 0, count: needed) }
                let count = buffer.withUnsafeMutableBufferPointer {
                    kiln_frame_to_float(resampler, frame, $0.baseAddress, Int32($0.count / outputChannels))
                }
                guard count >= 0 else { throw FFmpegError.from(count, operation: "swr_convert") }
                decodedAny = decodedAny || count > 0
                decodedSamples += Int(count)
                if Double(decodedSamples) / Double(context.pointee.sample_rate) > maxSeconds {
                    throw .tooLarge(message: "the audio runs past the limit of \(Int(maxSeconds)) s")
                }
                try buffer.withUnsafeBufferPointer { (all) throws(FFmpegError) in
                    try each(UnsafeBufferPointer(rebasing: all[0..<(Int(count) * outputChannels)]))
                }
            }
        }
        var ended = false
        while !ended {
            if interrupt.isStopped { throw .interrupted }
            let read = av_read_frame(demuxer.context, packet)
            if read < 0 {
                if read == kiln_averror_exit() { throw .interrupted }
                ended = true
                avcodec_send_packet(context, nil)
            } else {
                defer { av_packet_unref(packet) }
                guard packet.pointee.stream_index == index else { continue }
                let sent = avcodec_send_packet(context, packet)
                if sent < 0 && sent != kiln_averror(EAGAIN) && sent != kiln_averror_invaliddata() { throw FFmpegError.from(sent, operation: "send_packet") }
            }
            try drain()
        }
        guard decodedAny else { throw .invalidData(message: "no audio could be decoded") }
    }
}
