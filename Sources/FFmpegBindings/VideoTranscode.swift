import CFFmpeg
import CFFmpegShims
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
        let demuxer = try Demuxer(path: input, interrupt: interrupt)
        let total = settings.duration ?? max(0, (demuxer.duration ?? 0) - settings.start)
        var status: Int32 = 0
        let audioEncoder = settings.mute ? nil : (settings.container == .webm ? "libopus" : "aac")
        let transcoder: OpaquePointer? = settings.codec.encoder.withCString { videoEncoder in
            settings.container.rawValue.withCString { muxer in
                (settings.preset ?? "").withCString { preset in
                    withOptionalCString(audioEncoder) { audio in
                        var c = kiln_video_settings(
                            muxer: muxer, video_encoder: videoEncoder, audio_encoder: audio,
                            width: Int32(settings.width), height: Int32(settings.height), crf: Int32(settings.crf),
                            bit_rate: Int32(settings.bitRate ?? 0), max_rate: Int32(settings.maxRate ?? 0), buffer_size: Int32(settings.bufferSize ?? 0),
                            preset: settings.preset == nil ? nil : preset, keyframe_seconds: settings.keyframeSeconds, fps: settings.fps ?? 0,
                            audio_bit_rate: Int32(settings.audioBitRate), start: settings.start, duration: settings.duration ?? 0)
                        return kiln_video_transcoder_open(demuxer.context, output, &c, &status)
                    }
                }
            }
        }
        guard let transcoder else {
            try? FileManager.default.removeItem(atPath: output)
            throw FFmpegError.from(status, operation: "open video transcoder")
        }
        try TranscodeDriver.drive(output: output, maxSeconds: maxSeconds, total: total, interrupt: interrupt, progress: progress, operation: "transcode video",
                                  step: { kiln_video_transcoder_step(transcoder) }, position: { kiln_video_transcoder_position(transcoder) },
                                  close: { kiln_video_transcoder_close(transcoder) })
    }

    private static func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let text else { return body(nil) }
        return text.withCString { body($0) }
    }
}
