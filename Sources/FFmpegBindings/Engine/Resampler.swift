import CFFmpeg

/// A `SwrContext` owner converting whatever samples it is given to one
/// layout, sample format and rate. A stream may change layout, format or rate
/// mid-way (ADTS frames each carry their own); a resampler made for other
/// input would read planes the frame lacks, so it is flushed and made again.
final class Resampler {
    private var context: OpaquePointer?
    private var madeFor: (layout: AVChannelLayout, format: Int32, rate: Int32)?
    private var target: AVChannelLayout
    let format: AVSampleFormat
    let rate: Int32
    /// A linear gain in the mixing matrix (loudness normalisation); 1 leaves the level.
    let gain: Double
    private let output: MediaFrame

    init(channels: Int, format: AVSampleFormat, rate: Int, gain: Double = 1) throws(FFmpegError) {
        target = AVChannelLayout()
        av_channel_layout_default(&target, Int32(channels))
        self.format = format
        self.rate = Int32(rate)
        self.gain = gain
        output = try MediaFrame()
    }

    deinit {
        swr_free(&context)
        av_channel_layout_uninit(&target)
        if var made = madeFor?.layout { av_channel_layout_uninit(&made) }
    }

    var channels: Int { Int(target.nb_channels) }

    /// Converts `frame` (nil: what the resampler still holds) and hands the
    /// converted samples, as a frame of the target format, to `take`.
    func convert(_ frame: MediaFrame?, take: (MediaFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        if let frame, !fits(frame) {
            if context != nil { try convert(nil, take: take) }
            try make(for: frame)
        }
        guard let context else { return }
        let inCount = Int32(frame?.sampleCount ?? 0)
        let capacity = swr_get_out_samples(context, inCount)
        guard capacity > 0 else { return }
        output.unref()
        output.pointer.pointee.nb_samples = capacity
        output.pointer.pointee.format = format.rawValue
        output.pointer.pointee.sample_rate = rate
        try check(av_channel_layout_copy(&output.pointer.pointee.ch_layout, &target), "av_channel_layout_copy")
        try check(av_frame_get_buffer(output.pointer, 0), "av_frame_get_buffer")
        let converted = output.pointer.pointee.extended_data.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { out in
            if let frame {
                return UnsafeMutableRawPointer(frame.pointer.pointee.extended_data)!.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) {
                    swr_convert(context, out, capacity, $0, inCount)
                }
            }
            return swr_convert(context, out, capacity, nil, 0)
        }
        try check(converted, "swr_convert")
        guard converted > 0 else { return }
        output.pointer.pointee.nb_samples = converted
        try take(output)
    }

    /// A frame's layout, an unspecified order (some decoders give only a count) taken as that count's usual one.
    private static func layout(of frame: MediaFrame) -> AVChannelLayout {
        var layout = AVChannelLayout()
        let given = frame.pointer.pointee.ch_layout
        if given.order == AV_CHANNEL_ORDER_UNSPEC || given.nb_channels == 0 {
            av_channel_layout_default(&layout, max(1, given.nb_channels))
        } else {
            _ = withUnsafePointer(to: frame.pointer.pointee.ch_layout) { av_channel_layout_copy(&layout, $0) }
        }
        return layout
    }

    private func fits(_ frame: MediaFrame) -> Bool {
        guard var made = madeFor else { return false }
        guard made.format == frame.format, made.rate == frame.pointer.pointee.sample_rate else { return false }
        var layout = Self.layout(of: frame)
        defer { av_channel_layout_uninit(&layout) }
        return av_channel_layout_compare(&layout, &made.layout) == 0
    }

    private func make(for frame: MediaFrame) throws(FFmpegError) {
        swr_free(&context)
        if var made = madeFor?.layout { av_channel_layout_uninit(&made) }
        madeFor = nil
        var layout = Self.layout(of: frame)
        let inFormat = AVSampleFormat(rawValue: frame.format), inRate = frame.pointer.pointee.sample_rate
        guard inRate > 0 else {
            av_channel_layout_uninit(&layout)
            throw .invalidData(message: "audio without a sample rate")
        }
        madeFor = (layout, frame.format, inRate)
        try check(swr_alloc_set_opts2(&context, &target, format, rate, &layout, inFormat, inRate, 0, nil), "swr_alloc_set_opts2")
        if gain != 1 { try setGain(from: &layout) }
        try check(swr_init(context), "swr_init")
    }

    /// The default down/up-mix matrix scaled by `gain`, without normalisation
    /// (which would undo a gain above 1; the caller's peak check keeps it from clipping).
    private func setGain(from layout: inout AVChannelLayout) throws(FFmpegError) {
        let inputs = Int(layout.nb_channels), outputs = Int(target.nb_channels)
        // swr_build_matrix2 may touch rows and columns of all 64 channel positions: built at stride 64, then packed.
        var full = [Double](repeating: 0, count: 64 * 64)
        try check(swr_build_matrix2(&layout, &target, 0.7071067811865476, 0.7071067811865476, 0, Double(Int32.max), gain,
                                    &full, 64, AV_MATRIX_ENCODING_NONE, nil), "swr_build_matrix2")
        var matrix = [Double](repeating: 0, count: inputs * outputs)
        for o in 0..<outputs {
            for i in 0..<inputs { matrix[o * inputs + i] = full[o * 64 + i] }
        }
        try check(swr_set_matrix(context, &matrix, Int32(inputs)), "swr_set_matrix")
    }
}

/// An `AVAudioFifo` owner: converted samples wait here until an encoder's
/// frame size of them is ready.
final class AudioFIFO {
    let fifo: OpaquePointer

    init(format: AVSampleFormat, channels: Int, capacity: Int) throws(FFmpegError) {
        guard let fifo = av_audio_fifo_alloc(format, Int32(channels), Int32(max(1, capacity))) else { throw .outOfMemory("av_audio_fifo_alloc") }
        self.fifo = fifo
    }

    deinit { av_audio_fifo_free(fifo) }

    var count: Int { Int(av_audio_fifo_size(fifo)) }

    func write(_ frame: MediaFrame) throws(FFmpegError) {
        let written = UnsafeMutableRawPointer(frame.pointer.pointee.extended_data)!.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) {
            av_audio_fifo_write(fifo, $0, Int32(frame.sampleCount))
        }
        try check(written, "av_audio_fifo_write")
    }

    /// Fills `frame` (its buffers allocated for `count` samples) from the front.
    func read(_ count: Int, into frame: MediaFrame) throws(FFmpegError) {
        let read = UnsafeMutableRawPointer(frame.pointer.pointee.extended_data)!.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 8) {
            av_audio_fifo_read(fifo, $0, Int32(count))
        }
        guard read == Int32(count) else { throw .failed(operation: "av_audio_fifo_read", code: kiln_averror(EIO), message: "short read") }
    }

    func drop(_ count: Int) { av_audio_fifo_drain(fifo, Int32(count)) }
    func reset() { av_audio_fifo_reset(fifo) }
}
