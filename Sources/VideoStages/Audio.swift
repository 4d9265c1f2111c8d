import FFmpegBindings
import Foundation
import StageSupport
import PipelineEngine

/// `audio`: the sound of an audio or video input as MP3, AAC (M4A) or Opus
/// (Ogg or WebM), at a bit rate and sample rate, optionally trimmed.
public struct Audio: Stage {
    public static let descriptor = StageDescriptor(
        name: "audio",
        summary: "Extract or transcode the audio: mp3, aac (m4a), opus (ogg) or webm (opus); bit rate, sample rate, channels, trim",
        accepts: [.source(.audio), .source(.video)],
        produces: .product,
        parameters: [
            ParameterSpec("format", .choice(AudioOutput.allCases.map(\.rawValue)), default: "aac", summary: "Codec and container"),
            ParameterSpec("bitRate", .integer(min: 8, max: 512), summary: "Kilobits a second; default 128 (mp3, aac) or 64 (opus)"),
            ParameterSpec("sampleRate", .integer(min: 8000, max: 96000), summary: "Hz; default the source's (Opus always 48000)"),
            ParameterSpec("channels", .integer(min: 1, max: 2), summary: "1 or 2; default the source's, at most 2"),
            ParameterSpec("start", .number(min: 0, max: 86_400), default: 0, summary: "Seconds to skip"),
            ParameterSpec("duration", .number(min: 0.01, max: 86_400), summary: "Seconds to keep; default to the end"),
        ]
    )

    let format: AudioOutput
    let bitRate: Int
    let sampleRate: Int?
    let channels: Int?
    let start: Double
    let duration: Double?

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        format = parameters.string("format").flatMap(AudioOutput.init(rawValue:)) ?? .aac
        bitRate = (parameters.int("bitRate") ?? (format == .opus || format == .webm ? 64 : 128)) * 1000
        sampleRate = parameters.int("sampleRate")
        channels = parameters.int("channels")
        start = parameters.double("start") ?? 0
        duration = parameters.double("duration")
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        guard case let .source(file) = input else { throw StageError(code: "internal", message: "audio needs the input file") }
        let name = "\(context.outputName).\(format.fileExtension)"
        let path = context.scratchDirectory + "/" + name
        try withFFmpeg("audio", stop: context.stop) { interrupt in
            try AudioTranscode.run(input: file.path, output: path, as: format, bitRate: bitRate, sampleRate: sampleRate, channels: channels,
                                   start: start, duration: duration, maxSeconds: context.limits.maxDurationSeconds, interrupt: interrupt,
                                   progress: context.reportProgress)
        }
        let written = (try? MediaProbe(path: path)) ?? nil
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return .product(OutputProduct(files: [ProducedFile(name: name, contentType: format.contentType, size: size, duration: written?.duration)]))
    }
}
