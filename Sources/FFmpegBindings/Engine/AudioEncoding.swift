import CFFmpeg

/// Sound of one stream encoded into one muxer stream: resampled to what the
/// encoder takes (mixed to `channels`, multiplied by a gain), gathered into
/// the encoder's frame size, trimmed to the window to the sample, and played
/// at a tempo (its pitch kept) where asked.
final class AudioEncoding: FrameConsumer {
    let encoder: Encoder
    private let muxer: Muxer
    private let stream: Int32
    private let resampler: Resampler
    private let tempo: Tempo?
    /// 2 plays twice as fast; the window is in the source's seconds.
    private let speed: Double
    private let fifo: AudioFIFO
    private let inputBase: AVRational
    private let frameSize: Int
    /// Output samples to keep: [start, end); no end means to the end.
    private let start: Int64
    private let end: Int64?
    /// The output sample position of the FIFO's first sample; nil until the first frame says it.
    private var head: Int64?
    /// Samples handed to the encoder.
    private(set) var encoded: Int64 = 0

    /// - Parameters:
    ///   - sampleRate: nil keeps the source's (the nearest the encoder takes).
    ///   - channels: nil keeps the source's count, at most 2 (a mono voice note stays mono).
    init(decoder: Decoder, muxer: Muxer, encoder name: String, bitRate: Int, sampleRate: Int?, channels: Int?,
         window: (start: Double, duration: Double?), gain: Double = 1, tempo speed: Double = 1) throws(FFmpegError) {
        let source = decoder.context.pointee
        let count = channels ?? min(2, max(1, Int(source.ch_layout.nb_channels)))
        encoder = try Encoder(audio: .init(encoder: name, sampleRate: sampleRate ?? Int(source.sample_rate), channels: count, bitRate: bitRate),
                              globalHeader: muxer.wantsGlobalHeader)
        self.muxer = muxer
        stream = try muxer.addStream(for: encoder)
        resampler = try Resampler(channels: count, format: encoder.context.pointee.sample_fmt, rate: encoder.sampleRate, gain: gain)
        frameSize = encoder.frameSize > 0 ? encoder.frameSize : 1024
        fifo = try AudioFIFO(format: encoder.context.pointee.sample_fmt, channels: count, capacity: frameSize)
        self.speed = speed
        tempo = speed == 1 ? nil : try Tempo(factor: speed, format: encoder.context.pointee.sample_fmt, rate: encoder.sampleRate,
                                              layout: encoder.context.pointee.ch_layout)
        inputBase = decoder.timeBase
        // Samples as played: at twice the speed a source second is half a second out.
        let rate = Double(encoder.sampleRate) / speed
        let first = Int64((window.start * rate).rounded())
        start = first
        end = window.duration.map { first + Int64(($0 * rate).rounded()) }
    }

    var wantsMore: Bool {
        guard let end, let head else { return true }
        return head + Int64(fifo.count) < end
    }

    /// Seconds of output written so far.
    var position: Double { Double(encoded) / Double(encoder.sampleRate) }

    func consume(_ frame: MediaFrame) throws(FFmpegError) {
        if head == nil, let time = frame.time {
            head = max(0, Int64((Double(av_rescale_q(time, inputBase, AVRational(num: 1, den: Int32(encoder.sampleRate)))) / speed).rounded()))
        }
        try resampler.convert(frame) { (converted) throws(FFmpegError) in try played(converted) }
        try encodeGathered(final: false)
    }

    /// Converted samples at the tempo asked for, into the FIFO.
    private func played(_ converted: MediaFrame?) throws(FFmpegError) {
        guard let tempo else {
            if let converted { try gather(converted) }
            return
        }
        try tempo.convert(converted) { (faster) throws(FFmpegError) in try gather(faster) }
    }

    /// Converted samples into the FIFO; those before the trim start are dropped as they arrive.
    private func gather(_ converted: MediaFrame) throws(FFmpegError) {
        if head == nil { head = 0 }
        try fifo.write(converted)
        if let position = head, position < start {
            let dropped = min(start - position, Int64(fifo.count))
            fifo.drop(Int(dropped))
            head = position + dropped
        }
    }

    private func encodeGathered(final: Bool) throws(FFmpegError) {
        while true {
            let wanted = end.map { $0 - start - encoded } ?? .max
            let available = fifo.count
            if wanted <= 0 {
                fifo.reset()
                return
            }
            if available == 0 || (available < frameSize && !final && wanted > Int64(available)) { return }
            let count = Int(min(Int64(min(available, frameSize)), wanted))
            let frame = try MediaFrame()
            frame.pointer.pointee.nb_samples = Int32(count)
            frame.pointer.pointee.format = encoder.context.pointee.sample_fmt.rawValue
            frame.pointer.pointee.sample_rate = Int32(encoder.sampleRate)
            try check(av_channel_layout_copy(&frame.pointer.pointee.ch_layout, &encoder.context.pointee.ch_layout), "av_channel_layout_copy")
            try check(av_frame_get_buffer(frame.pointer, 0), "av_frame_get_buffer")
            try fifo.read(count, into: frame)
            frame.pointer.pointee.pts = encoded
            encoded += Int64(count)
            head = (head ?? 0) + Int64(count)
            try encode(frame)
        }
    }

    private func encode(_ frame: MediaFrame?) throws(FFmpegError) {
        try encoder.encode(frame) { (packet) throws(FFmpegError) in try muxer.write(packet, stream: stream, from: encoder.timeBase) }
    }

    func finish() throws(FFmpegError) {
        try resampler.convert(nil) { (converted) throws(FFmpegError) in try played(converted) }
        if tempo != nil { try played(nil) }
        try encodeGathered(final: true)
        try encode(nil)
    }
}
