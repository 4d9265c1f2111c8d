import CFFmpeg

/// Takes the decoded frames of one stream during a `MediaPass`.
protocol FrameConsumer: AnyObject {
    /// One decoded frame, its time in the stream's time base. The consumer
    /// copies or references what it keeps; the frame is reused afterwards.
    func consume(_ frame: MediaFrame) throws(FFmpegError)
    /// The stream ended (or nobody wants more of it): flush what is held.
    func finish() throws(FFmpegError)
    /// False once the consumer needs nothing more (past the end of its trim).
    var wantsMore: Bool { get }
}

/// One demux-and-decode loop over a source: each stream that a consumer wants
/// is decoded once and every decoded frame is handed to each of its
/// consumers. Transcodes, ladders, audio encodes, sample readers and frame
/// taps are consumers, so the loop exists once.
final class MediaPass {
    let demuxer: Demuxer
    private(set) var video: Decoder?
    private(set) var audio: Decoder?
    private var videoConsumers: [any FrameConsumer] = []
    private var audioConsumers: [any FrameConsumer] = []
    /// Seconds to seek to before reading (the keyframe before); consumers drop what comes before their own start.
    var start: Double = 0
    /// A read error after some frames ends the input instead of failing it (a damaged tail still has a beginning).
    var damagedTailEndsInput = false

    init(_ demuxer: Demuxer) { self.demuxer = demuxer }

    /// The best video stream's decoder, opened on first use.
    func videoDecoder(maxPixels: Int) throws(FFmpegError) -> Decoder {
        if let video { return video }
        let decoder = try Decoder(demuxer, best: .video, maxPixels: maxPixels)
        video = decoder
        return decoder
    }

    /// The best audio stream's decoder (related to the video stream when there is one); nil without sound.
    func audioDecoder() throws(FFmpegError) -> Decoder? {
        if let audio { return audio }
        let index = av_find_best_stream(demuxer.context, AVMEDIA_TYPE_AUDIO, -1, video?.streamIndex ?? -1, nil, 0)
        guard index >= 0 else { return nil }
        let decoder = try Decoder(demuxer, stream: index)
        audio = decoder
        return decoder
    }

    private var endings: [() throws(FFmpegError) -> Void] = []

    func addVideo(_ consumer: any FrameConsumer) { videoConsumers.append(consumer) }
    func removeConsumers() {
        videoConsumers = []
        audioConsumers = []
        endings = []
    }
    /// Runs after every consumer has finished, in the order added (a muxer's trailer).
    func atEnd(_ ending: @escaping () throws(FFmpegError) -> Void) { endings.append(ending) }
    func addAudio(_ consumer: any FrameConsumer) { audioConsumers.append(consumer) }

    /// Reads to the end (or until no consumer wants more), then flushes the
    /// decoders and finishes every consumer. `maxSeconds` is the duration limit
    /// applied while decoding: a header can say less than the stream holds.
    ///
    /// `afterPacket` runs after each packet is handled (a ladder publishes the segments its muxers finished).
    func run(interrupt: InterruptFlag, maxSeconds: Double, total: Double, progress: (Double) -> Void,
             afterPacket: () throws(FFmpegError) -> Void = {}) throws(FFmpegError) {
        let packet = try Packet(), frame = try MediaFrame()
        if start > 0, let lead = video ?? audio, let stream = demuxer.stream(lead.streamIndex),
           demuxer.seek(stream: lead.streamIndex, to: Int64(start / av_q2d(lead.timeBase))
               + (stream.pointee.start_time == kiln_av_nopts_value() ? 0 : stream.pointee.start_time)) {
            video?.flush()
            audio?.flush()
        }
        var first: Double?, position = 0.0, packets = 0, readAny = false
        func deliver(_ decoder: Decoder, to consumers: [any FrameConsumer]) throws(FFmpegError) {
            while try decoder.receive(into: frame) {
                defer { frame.unref() }
                if decoder === (video ?? audio), let time = frame.time {
                    let seconds = decoder.seconds(time)
                    if first == nil { first = seconds }
                    position = max(position, seconds - (first ?? seconds))
                }
                for consumer in consumers where consumer.wantsMore { try consumer.consume(frame) }
            }
        }
        reading: while true {
            if interrupt.isStopped { throw .interrupted }
            let wantsVideo = videoConsumers.contains { $0.wantsMore }, wantsAudio = audioConsumers.contains { $0.wantsMore }
            guard wantsVideo || wantsAudio else { break }
            do {
                guard try demuxer.read(into: packet) else { break }
            } catch FFmpegError.interrupted {
                throw .interrupted
            } catch {
                if damagedTailEndsInput && readAny { break reading }
                throw error
            }
            readAny = true
            defer { packet.unref() }
            if let video, wantsVideo, packet.streamIndex == video.streamIndex {
                try video.send(packet)
                try deliver(video, to: videoConsumers)
            } else if let audio, wantsAudio, packet.streamIndex == audio.streamIndex {
                try audio.send(packet)
                try deliver(audio, to: audioConsumers)
            }
            try afterPacket()
            packets += 1
            if packets % 16 == 0 {
                if position > maxSeconds {
                    throw .tooLarge(message: "the stream runs past the limit of \(Int(maxSeconds)) s (its header said \(total > 0 ? "\(Int(total.rounded())) s" : "no duration"))")
                }
                if total > 0 { progress(min(1, position / total)) }
            }
        }
        if let video, !videoConsumers.isEmpty {
            try video.send(nil)
            try deliver(video, to: videoConsumers)
        }
        if let audio, !audioConsumers.isEmpty {
            try audio.send(nil)
            try deliver(audio, to: audioConsumers)
        }
        if position > maxSeconds { throw .tooLarge(message: "the stream runs past the limit of \(Int(maxSeconds)) s") }
        for consumer in videoConsumers + audioConsumers { try consumer.finish() }
        for ending in endings { try ending() }
        try afterPacket()
        if total > 0 { progress(1) }
    }
}
