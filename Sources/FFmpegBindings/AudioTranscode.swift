import CFFmpeg
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
        var finished = false
        defer { if !finished { try? FileManager.default.removeItem(atPath: output) } }
        let demuxer = try Demuxer(path: input, interrupt: interrupt)
        let pass = MediaPass(demuxer)
        guard let decoder = try pass.audioDecoder() else { throw .invalidData(message: "no audio stream") }
        let muxer = try Muxer(format: format.muxer, path: output)
        let encoding = try AudioEncoding(decoder: decoder, muxer: muxer, encoder: format.encoder, bitRate: bitRate, sampleRate: sampleRate,
                                         channels: channels, window: (start, duration), gain: gain)
        pass.addAudio(encoding)
        pass.start = start
        try muxer.writeHeader(options: format == .aac ? [("movflags", "+faststart")] : [])
        pass.atEnd { () throws(FFmpegError) in try muxer.finish() }
        try pass.run(interrupt: interrupt, maxSeconds: maxSeconds, total: duration ?? max(0, (demuxer.duration ?? 0) - start), progress: progress)
        finished = true
    }
}
