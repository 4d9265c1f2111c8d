import CFFmpeg
import Foundation

/// One decode of a video feeding every output a job wants from it: HLS
/// ladders, MP4/WebM transcodes and frames. Add what each output needs, then
/// `run` once. A transcode whose encode equals a ladder rung's (same codec,
/// size, rate control, preset, no trim) takes that rung's packets instead of
/// encoding them again.
public final class SourcePass {
    let pass: MediaPass
    private let interrupt: InterruptFlag
    private var ladders: [HLSLadder.Ladder] = []
    private var ladderFacts: [(HLSLadder.Ladder, (HLSLadderFacts) -> Void)] = []
    private var segmentWatchers: [() -> Void] = []
    private var cleanups: [() -> Void] = []
    /// Video encodes the pass runs (rungs and transcodes), for the tests' count.
    public private(set) var videoEncoders = 0
    private var finished = false
    /// Seconds to seek to before reading: for a trimmed transcode alone on its pass
    /// (beside other outputs it reads from the start and drops what comes before).
    /// Seconds of media the progress counts against; the container's duration unless set (a trim).
    public var progressSeconds: Double?

    public var start: Double {
        get { pass.start }
        set { pass.start = newValue }
    }

    public init(path: String, interrupt: InterruptFlag = InterruptFlag()) throws(FFmpegError) {
        self.interrupt = interrupt
        pass = MediaPass(try Demuxer(path: path, interrupt: interrupt))
    }

    /// The container's duration in seconds, 0 when unknown.
    public var duration: Double { pass.demuxer.duration ?? 0 }

    private func videoSource() throws(FFmpegError) -> (Decoder, UnsafeMutablePointer<AVStream>) {
        let decoder = try pass.videoDecoder(maxPixels: Decoder.maxFramePixels)
        guard let stream = pass.demuxer.stream(decoder.streamIndex) else { throw .invalidData(message: "no video stream") }
        return (decoder, stream)
    }

    /// An HLS ladder, as `HLSLadder.run` writes it. `segmentsFinished` is
    /// called on the pass's thread; `done` with the facts once the pass ends.
    public func addLadder(_ settings: HLSSettings, segmentsFinished: @escaping ([HLSSegmentList], HLSLadderFacts) -> Void,
                          done: @escaping (HLSLadderFacts) -> Void) throws(FFmpegError) {
        let (decoder, stream) = try videoSource()
        cleanups.append { try? FileManager.default.removeItem(atPath: settings.directory) }
        let ladder = try HLSLadder.Ladder(settings, pass: pass, decoder: decoder, source: stream)
        ladders.append(ladder)
        videoEncoders += ladder.video.rungs.count
        var counts = [Int](repeating: 0, count: ladder.muxers.count)
        segmentWatchers.append {
            let now = ladder.muxers.map(\.segments.segments.count)
            if now != counts {
                counts = now
                segmentsFinished(ladder.muxers.map(\.segments), ladder.facts)
            }
        }
        ladderFacts.append((ladder, done))
    }

    /// A transcode to `output`, as `VideoTranscode.run` writes it.
    public func addTranscode(_ settings: VideoSettings, output: String) throws(FFmpegError) {
        let (decoder, stream) = try videoSource()
        cleanups.append { try? FileManager.default.removeItem(atPath: output) }
        if let rung = sharedRung(for: settings, rotation: decoder.rotation) {
            try VideoTranscode.remux(rung, settings: settings, of: pass, stream: stream, to: output)
        } else {
            try VideoTranscode.write(settings, of: pass, decoder: decoder, source: stream, to: output)
            videoEncoders += 1
        }
    }

    /// Frames at `seconds` (the first shown at or after each), handed over in
    /// the order the pass reaches them with the index each was asked at.
    public func addFrames(at seconds: [Double], maxPixels: Int, take: @escaping (Int, RGBFrame) throws(FFmpegError) -> Void) throws(FFmpegError) {
        let (decoder, stream) = try videoSource()
        let width = Int(stream.pointee.codecpar.pointee.width), height = Int(stream.pointee.codecpar.pointee.height)
        guard width * height <= maxPixels else { throw .tooLarge(message: "the video is \(width)x\(height); the limit is \(maxPixels) pixels") }
        pass.addVideo(try FrameTap(decoder: decoder, seconds: seconds, take: take))
    }

    /// The sound as interleaved floats (`channels` nil: the source's, at most
    /// 2), handed to `each` on the pass's thread as the pass reaches it. The
    /// format is known at once; nil when the source has no sound. Add it after
    /// the video outputs, so that the sound is the one that goes with their picture.
    public func addSamples(channels: Int?, each: @escaping (UnsafeBufferPointer<Float>) throws(FFmpegError) -> Void) throws(FFmpegError) -> AudioSamples.Format? {
        guard let decoder = try pass.audioDecoder() else { return nil }
        let format = try AudioSamples.Format(decoder, channels: channels, duration: duration)
        pass.addAudio(try FloatSamples(format, each: each))
        return format
    }

    /// A ladder rung whose packets a transcode of `settings` can take as they are.
    private func sharedRung(for settings: VideoSettings, rotation: Int) -> LadderEncoding.Rung? {
        // An MP4 keeps the display matrix while a ladder's rungs are turned upright: only an unturned source matches.
        guard settings.container == .mp4, settings.codec == .h264, settings.start == 0, settings.duration == nil, settings.fps == nil,
              settings.edits == nil, settings.speed == 1, rotation == 0 else { return nil }
        for ladder in ladders where ladder.settings.edits == nil && ladder.settings.speed == 1 && ladder.settings.start == 0 && ladder.settings.duration == nil {
            for (index, rung) in ladder.settings.rungs.enumerated()
            where rung.width == settings.width && rung.height == settings.height && ladder.settings.preset == settings.preset
                && (rung.bitRate == nil ? settings.bitRate == nil && rung.crf == settings.crf : rung.bitRate == settings.bitRate)
                && rung.maxRate == settings.maxRate && rung.bufferSize == settings.bufferSize {
                return ladder.video.rungs[index]
            }
        }
        return nil
    }

    /// Reads the source once, feeding everything added; on failure or stop,
    /// everything written is removed.
    public func run(maxSeconds: Double = .infinity, progress: (Double) -> Void = { _ in }) throws(FFmpegError) {
        try pass.run(interrupt: interrupt, maxSeconds: maxSeconds, total: progressSeconds ?? duration, progress: progress) {
            segmentWatchers.forEach { $0() }
        }
        for (ladder, done) in ladderFacts {
            var facts = ladder.facts
            facts.videoSeconds = ladder.video.videoSeconds
            facts.segmentLists = ladder.muxers.map(\.segments)
            done(facts)
        }
        finished = true
    }

    /// A pass that failed, was stopped or never ran leaves nothing behind; the
    /// muxers are released first, so their trailers are written before the files go.
    deinit {
        guard !finished else { return }
        ladders = []
        ladderFacts = []
        segmentWatchers = []
        pass.removeConsumers()
        cleanups.forEach { $0() }
    }
}
