import CFFmpeg

/// Decodes the best audio stream of a file once, start to end, handing the
/// samples on as interleaved floats with `channels` channels.
public enum AudioSamples {
    public struct Format: Sendable {
        public var sampleRate: Int
        public var channels: Int
        /// The container's duration in seconds, 0 when unknown.
        public var duration: Double

        public init(sampleRate: Int, channels: Int, duration: Double) {
            self.sampleRate = sampleRate
            self.channels = channels
            self.duration = duration
        }

        /// What `decoder` yields as floats: its rate, and `channels` (nil: the source's, at most 2).
        init(_ decoder: Decoder, channels: Int?, duration: Double) throws(FFmpegError) {
            let rate = Int(decoder.context.pointee.sample_rate)
            guard rate > 0 else { throw .invalidData(message: "no sample rate") }
            self.init(sampleRate: rate, channels: channels ?? min(2, max(1, Int(decoder.context.pointee.ch_layout.nb_channels))), duration: duration)
        }
    }

    /// - Parameter channels: nil keeps the source's count, at most 2.
    /// - Parameter maxSeconds: the duration limit, applied to what is decoded (a header may say less, or nothing).
    public static func decode(path: String, channels: Int?, maxSeconds: Double = .infinity, interrupt: InterruptFlag = InterruptFlag(),
                              start: (Format) -> Void = { _ in },
                              each: (UnsafeBufferPointer<Float>) throws(FFmpegError) -> Void) throws(FFmpegError) {
        let demuxer = try Demuxer(path: path, interrupt: interrupt)
        let pass = MediaPass(demuxer)
        guard let decoder = try pass.audioDecoder() else { throw .invalidData(message: "no audio stream") }
        let format = try Format(decoder, channels: channels, duration: demuxer.duration ?? 0)
        start(format)
        // A damaged tail ends the sound there: the samples before it still have a shape and a loudness.
        pass.damagedTailEndsInput = true
        // The reader lives only as long as the pass runs, so `each` does not escape.
        let samples = try withoutActuallyEscaping(each) { (each) throws(FFmpegError) -> Int in
            let reader = try FloatSamples(format, each: each)
            pass.addAudio(reader)
            defer { pass.removeConsumers() }
            try pass.run(interrupt: interrupt, maxSeconds: maxSeconds, total: 0, progress: { _ in })
            return reader.samples
        }
        guard samples > 0 else { throw .invalidData(message: "no audio could be decoded") }
        if Double(samples) / Double(format.sampleRate) > maxSeconds { throw .tooLarge(message: "the audio runs past the limit of \(Int(maxSeconds)) s") }
    }
}

/// Decoded sound as interleaved 32-bit floats at the source's rate, handed on frame by frame.
final class FloatSamples: FrameConsumer {
    private let resampler: Resampler
    private let each: (UnsafeBufferPointer<Float>) throws(FFmpegError) -> Void
    private(set) var samples = 0

    init(_ format: AudioSamples.Format, each: @escaping (UnsafeBufferPointer<Float>) throws(FFmpegError) -> Void) throws(FFmpegError) {
        resampler = try Resampler(channels: format.channels, format: AV_SAMPLE_FMT_FLT, rate: format.sampleRate)
        self.each = each
    }

    var wantsMore: Bool { true }

    func consume(_ frame: MediaFrame) throws(FFmpegError) {
        try resampler.convert(frame) { (converted) throws(FFmpegError) in try hand(converted) }
    }

    func finish() throws(FFmpegError) {
        try resampler.convert(nil) { (converted) throws(FFmpegError) in try hand(converted) }
    }

    private func hand(_ converted: MediaFrame) throws(FFmpegError) {
        guard let data = converted.pointer.pointee.data.0 else { return }
        samples += converted.sampleCount
        let count = converted.sampleCount * resampler.channels
        try data.withMemoryRebound(to: Float.self, capacity: count) { (floats) throws(FFmpegError) in
            try each(UnsafeBufferPointer(start: floats, count: count))
        }
    }
}
