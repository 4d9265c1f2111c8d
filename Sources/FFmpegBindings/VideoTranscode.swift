import CFFmpeg
import Foundation

/// What a video transcode writes.
public struct VideoSettings: Sendable {
    public enum Container: String, Sendable { case mp4, webm }
    public enum Codec: String, Sendable, CaseIterable {
        case h264, hevc, vp9, av1

        var encoder: String {
            switch self {
            case .h264: "libx264"
            case .hevc: "libx265"
            case .vp9: "libvpx-vp9"
            case .av1: "libsvtav1"
            }
        }
    }

    public var container: Container
    public var codec: Codec
    public var width: Int
    public var height: Int
    public var crf: Int
    public var bitRate: Int?
    public var maxRate: Int?
    public var bufferSize: Int?
    public var preset: String?
    public var keyframeSeconds: Double
    /// At most this many frames a second; nil keeps the source's.
    public var fps: Double?
    public var mute: Bool
    public var audioBitRate: Int
    public var start: Double
    public var duration: Double?
    /// Pictures cropped, turned or overlaid before encoding; when set, the
    /// pixels are turned upright here and no display matrix is written.
    public var edits: PictureEdits?
    /// Playback speed: 2 plays twice as fast (the sound keeps its pitch).
    /// `start` and `duration` stay in the source's seconds.
    public var speed: Double = 1

    public init(container: Container, codec: Codec, width: Int, height: Int, crf: Int, bitRate: Int? = nil, maxRate: Int? = nil,
                bufferSize: Int? = nil, preset: String? = nil, keyframeSeconds: Double = 2, fps: Double? = nil, mute: Bool = false, audioBitRate: Int = 128_000,
                start: Double = 0, duration: Double? = nil) {
        self.container = container
        self.codec = codec
        self.width = width
        self.height = height
        self.crf = crf
        self.bitRate = bitRate
        self.maxRate = maxRate
        self.bufferSize = bufferSize
        self.preset = preset
        self.keyframeSeconds = keyframeSeconds
        self.fps = fps
        self.mute = mute
        self.audioBitRate = audioBitRate
        self.start = start
        self.duration = duration
    }
}

public enum VideoTranscode {
    /// Decodes `input` once and writes `output`; on failure or stop the partial
    /// file is removed (the trailer is still written, so nothing leaks).
    public static func run(input: String, output: String, settings: VideoSettings, maxSeconds: Double = .infinity,
                           interrupt: InterruptFlag = InterruptFlag(), progress: (Double) -> Void = { _ in }) throws(FFmpegError) {
        let pass = try SourcePass(path: input, interrupt: interrupt)
        try pass.addTranscode(settings, output: output)
        // Alone on its pass, a trimmed transcode seeks to its start; beside other outputs it drops what comes before.
        pass.start = settings.start
        pass.progressSeconds = settings.duration ?? max(0, pass.duration - settings.start)
        try pass.run(maxSeconds: maxSeconds, progress: progress)
    }

    /// Adds the consumers that write `settings` to `output` to `pass`, and
    /// writes the header; the pass's end finishes the file.
    static func write(_ settings: VideoSettings, of pass: MediaPass, decoder: Decoder, source: UnsafeMutablePointer<AVStream>,
                      to output: String) throws(FFmpegError) {
        var rate = av_guess_frame_rate(pass.demuxer.context, source, nil)
        if rate.num <= 0 || rate.den <= 0 { rate = AVRational(num: 25, den: 1) }
        // Faster playback shows the same frames sooner: the rate and the time base scale together.
        let sped = av_d2q(settings.speed, 1 << 16)
        if settings.speed != 1 { rate = av_mul_q(rate, sped) }
        let playingBase = settings.speed == 1 ? decoder.timeBase : av_div_q(decoder.timeBase, sped)
        let capsRate = settings.fps.map { $0 < av_q2d(rate) } ?? false
        if capsRate, let fps = settings.fps { rate = av_d2q(fps, 1_001_000) }
        let muxer = try Muxer(format: settings.container.rawValue, path: output)
        // MP4 carries the source's display matrix and players turn the picture;
        // WebM has none, so the pixels are turned here, as they are for any edit.
        let keepsMatrix = settings.container == .mp4 && settings.edits == nil
        let frames = max(1, Int((av_q2d(rate) * settings.keyframeSeconds).rounded()))
        let video = try VideoEncoding(
            decoder: decoder, stream: source, muxer: muxer,
            settings: Encoder.Video(
                encoder: settings.codec.encoder, width: settings.width, height: settings.height,
                timeBase: capsRate ? av_inv_q(rate) : playingBase, frameRate: rate,
                // The same cadence throughout: a keyframe every keyframeSeconds, none in between.
                gopSize: frames, keyintMin: frames, bitRate: settings.bitRate, maxRate: settings.maxRate, bufferSize: settings.bufferSize,
                options: settings.codec.options(crf: settings.crf, preset: settings.preset),
                // One frame thread a core, as the ladder's top rung: x264's own choice (1.5 a core) was
                // no faster on a 1080p -> 720p transcode here (8.4-9.0 s either way) and held 8 MB more.
                threads: ProcessInfo.processInfo.activeProcessorCount),
            rotation: keepsMatrix ? 0 : decoder.rotation, window: (settings.start, settings.duration), capsFrameRate: capsRate,
            edits: settings.edits, playingBase: playingBase)
        if keepsMatrix { DisplayMatrix.copy(from: source, to: muxer.stream(video.outputStream)) }
        pass.addVideo(video)
        try addSound(settings, of: pass, to: muxer)
        try muxer.writeHeader(options: settings.container == .mp4 ? [("movflags", "+faststart")] : [])
        pass.atEnd { () throws(FFmpegError) in try muxer.finish() }
    }
}

extension VideoTranscode {
    /// An MP4 of `rung`'s packets (no second encode) and the source's sound,
    /// encoded on the same pass. MP4 takes the rung's Annex B H.264 as it is:
    /// the muxer builds its avcC from the first packet's parameter sets.
    static func remux(_ rung: LadderEncoding.Rung, settings: VideoSettings, of pass: MediaPass, stream source: UnsafeMutablePointer<AVStream>,
                      to output: String) throws(FFmpegError) {
        let muxer = try Muxer(format: "mp4", path: output)
        let stream = try muxer.addStream(for: rung.encoder, frameRate: rung.encoder.context.pointee.framerate)
        try rung.share(with: muxer, stream: stream)
        try addSound(settings, of: pass, to: muxer)
        try muxer.writeHeader(options: [("movflags", "+faststart")])
        pass.atEnd { () throws(FFmpegError) in try muxer.finish() }
    }
}

extension VideoTranscode {
    /// The source's sound, encoded for the container on the same pass, unless muted.
    static func addSound(_ settings: VideoSettings, of pass: MediaPass, to muxer: Muxer) throws(FFmpegError) {
        guard !settings.mute, let audio = try pass.audioDecoder() else { return }
        pass.addAudio(try AudioEncoding(decoder: audio, muxer: muxer, encoder: settings.container == .webm ? "libopus" : "aac",
                                        bitRate: settings.audioBitRate, sampleRate: nil, channels: nil, window: (settings.start, settings.duration),
                                        tempo: settings.speed))
    }
}

extension VideoSettings.Codec {
    /// The encoder's private options: speed, quality, and keyframes only where asked for.
    func options(crf: Int, preset: String?) -> [(String, String)] {
        var options: [(String, String)] = []
        switch self {
        case .h264, .hevc:
            if let preset { options.append(("preset", preset)) }
            if crf > 0 { options.append(("crf", "\(crf)")) }
            options.append(self == .h264 ? ("x264-params", "scenecut=0:open-gop=0") : ("x265-params", "scenecut=0:open-gop=0:log-level=error"))
        case .vp9:
            if crf > 0 { options.append(("crf", "\(crf)")) }
            options += [("deadline", "good"), ("cpu-used", "4"), ("row-mt", "1")]
        case .av1:
            if crf > 0 { options.append(("crf", "\(crf)")) }
        }
        return options
    }
}
