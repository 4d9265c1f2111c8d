import CFFmpeg
import CFFmpegShims

/// The shape of a sound for drawing: the lowest and highest sample of each of
/// `points` equal spans, mixed to mono (BBC audiowaveform's min/max pairs).
public struct AudioPeaks: Sendable, Equatable {
    public var sampleRate: Int
    public var samplesPerPoint: Int
    /// One (min, max) pair a point, each -1...1.
    public var peaks: [(min: Float, max: Float)]

    public static func == (a: AudioPeaks, b: AudioPeaks) -> Bool {
        a.sampleRate == b.sampleRate && a.samplesPerPoint == b.samplesPerPoint
            && a.peaks.elementsEqual(b.peaks) { $0.min == $1.min && $0.max == $1.max }
    }

    /// Decodes the best audio stream of `path` once, from start to end.
    public init(path: String, points: Int, interrupt: InterruptFlag = InterruptFlag(),
                progress: (Double) -> Void = { _ in }) throws(FFmpegError) {
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
        var resampler = kiln_swr_to_mono_float(context)
        guard resampler != nil else { throw .invalidData(message: "unsupported audio layout") }
        defer { swr_free(&resampler) }

        let rate = Int(context.pointee.sample_rate)
        guard rate > 0 else { throw .invalidData(message: "no sample rate") }
        let duration = demuxer.duration ?? 0
        let expected = max(1, Int((duration * Double(rate)).rounded(.up)))
        let perPoint = max(1, (expected + points - 1) / points)
        var peaks = [(min: Float, max: Float)](repeating: (0, 0), count: points)
        var sampleIndex = 0
        var buffer = [Float](repeating: 0, count: 1 << 16)

        guard let packet = av_packet_alloc() else { throw .failed(operation: "av_packet_alloc", code: kiln_averror(ENOMEM), message: "out of memory") }
        var frame = av_frame_alloc()
        defer {
            var doomed: UnsafeMutablePointer<AVPacket>? = packet
            av_packet_free(&doomed)
            av_frame_free(&frame)
        }
        guard let frame else { throw .failed(operation: "av_frame_alloc", code: kiln_averror(ENOMEM), message: "out of memory") }

        func drain() throws(FFmpegError) {
            while true {
                let received = avcodec_receive_frame(context, frame)
                if received == kiln_averror(EAGAIN) || received == kiln_averror_eof() { return }
                guard received >= 0 else { throw FFmpegError.from(received, operation: "receive_frame") }
                defer { av_frame_unref(frame) }
                let needed = Int(frame.pointee.nb_samples) + 256
                if buffer.count < needed { buffer = [Float](repeating: 0, count: needed) }
                let count = buffer.withUnsafeMutableBufferPointer { kiln_frame_to_mono_float(resampler, frame, $0.baseAddress, Int32($0.count)) }
                guard count >= 0 else { throw FFmpegError.from(count, operation: "swr_convert") }
                for i in 0..<Int(count) {
                    let point = min(points - 1, sampleIndex / perPoint)
                    let value = buffer[i]
                    if value < peaks[point].min { peaks[point].min = value }
                    if value > peaks[point].max { peaks[point].max = value }
                    sampleIndex += 1
                }
                progress(min(1, Double(sampleIndex) / Double(expected)))
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
        guard sampleIndex > 0 else { throw .invalidData(message: "no audio could be decoded") }
        sampleRate = rate
        samplesPerPoint = perPoint
        self.peaks = peaks
    }
}
