import CFFmpeg
import CFFmpegShims
import Foundation

/// Audio formats Kiln writes: codec, container and what a client is told.
public enum AudioOutput: String, Sendable, CaseIterable {
    case mp3
    /// AAC in an M4A (MP4) file, faststart.
    case aac
    /// Opus in Ogg.
    case opus
    /// Opus in WebM.
    case webm

    var encoder: String {
        switch self {
        case .mp3: "libmp3lame"
        case .aac: "aac"
        case .opus, .webm: "libopus"
        }
    }

    var muxer: String {
        switch self {
        case .mp3: "mp3"
        case .aac: "ipod"
        case .opus: "ogg"
        case .webm: "webm"
        }
    }

    public var fileExtension: String {
        switch self {
        case .mp3: "mp3"
        case .aac: "m4a"
        case .opus: "opus"
        case .webm: "webm"
        }
    }

    public var contentType: String {
        switch self {
        case .mp3: "audio/mpeg"
        case .aac: "audio/mp4"
        case .opus: "audio/ogg"
        case .webm: "audio/webm"
        }
    }
}

/// Decodes the best audio stream of a file and encodes it again, in-process:
/// resampled, mixed to `channels`, trimmed to `start` + `duration`.
public enum AudioTranscode {
    /// Writes `output`; on any failure or stop the partial file is removed
    /// (the muxer's trailer is still written first, so nothing leaks).
    public static func run(input: String, output: String, as format: AudioOutput, bitRate: Int, sampleRate: Int?, channels: Int?,
                           start: Double = 0, duration: Double? = nil, gain: Double = 1, maxSeconds: Double = .infinity,
                           interrupt: InterruptFlag = InterruptFlag(), progress: (Double) -> Void = { _ in }) throws(FFmpegError) {
        let demuxer = try Demuxer(path: input, interrupt: interrupt)
        let index = av_find_best_stream(demuxer.context, AVMEDIA_TYPE_AUDIO, -1, -1, nil, 0)
        guard index >= 0 else { throw .invalidData(message: "no audio stream") }
        var status: Int32 = 0
        // channels 0: the source's count, stereo at most (a mono voice note stays mono).
        guard let transcoder = kiln_audio_transcoder_open(demuxer.context, index, output, format.muxer, format.encoder, Int32(bitRate),
                                                          Int32(sampleRate ?? 0), Int32(channels ?? 0), start, duration ?? 0, gain, &status) else {
            try? FileManager.default.removeItem(atPath: output)
            throw FFmpegError.from(status, operation: "open audio transcoder")
        }
        try TranscodeDriver.drive(output: output, maxSeconds: maxSeconds, total: duration ?? max(0, (demuxer.duration ?? 0) - start), interrupt: interrupt,
                                  progress: progress, operation: "transcode audio",
                                  step: { kiln_audio_transcoder_step(transcoder) }, position: { kiln_audio_transcoder_position(transcoder) },
                                  close: { kiln_audio_transcoder_close(transcoder) })
    }
}
