import FFmpegBindings
import Foundation
import StageSupport
import PipelineEngine

/// `loudnorm`: EBU R128 loudness normalisation in two passes. The first
/// measures the integrated loudness (BS.1770 gating) and the peak; the second
/// re-encodes with the one gain that brings the loudness to `target`, lowered
/// if it would push the peak above `truePeak`. A linear gain keeps the
/// dynamics as they were (ffmpeg's loudnorm in its linear mode does the same).
public struct Loudnorm: Stage {
    public static let descriptor = StageDescriptor(
        name: "loudnorm",
        summary: "Normalise loudness (EBU R128, two passes) and encode the audio; the measured and applied values in results.loudness",
        accepts: [.source(.audio), .source(.video)],
        produces: .product,
        parameters: [
            ParameterSpec("target", .number(min: -70, max: -5), default: -16, summary: "Integrated loudness to reach, LUFS (-16 for apps and podcasts, -23 for EBU broadcast)"),
            ParameterSpec("truePeak", .number(min: -9, max: 0), default: -1.5, summary: "Highest peak allowed after the gain, dBFS"),
            ParameterSpec("format", .choice(AudioOutput.allCases.map(\.rawValue)), default: "aac", summary: "Codec and container of the result"),
            ParameterSpec("bitRate", .integer(min: 8, max: 512), summary: "Kilobits a second; default 128 (mp3, aac) or 64 (opus)"),
        ]
    )

    let target: Double
    let truePeak: Double
    let format: AudioOutput
    let bitRate: Int

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        target = parameters.double("target") ?? -16
        truePeak = parameters.double("truePeak") ?? -1.5
        format = parameters.string("format").flatMap(AudioOutput.init(rawValue:)) ?? .aac
        bitRate = (parameters.int("bitRate") ?? (format == .opus || format == .webm ? 64 : 128)) * 1000
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        if let shared = try sharedValue(input, context: context) { return shared }
        guard case let .source(file) = input else { throw StageError(code: "internal", message: "loudnorm needs the input file") }
        var meter: LoudnessMeter?
        try withFFmpeg("loudnorm", stop: context.stop) { interrupt in
            var expected = 1.0, seen = 0.0
            try AudioSamples.decode(path: file.path, channels: nil, maxSeconds: context.limits.maxDurationSeconds, interrupt: interrupt, start: { format in
                meter = LoudnessMeter(sampleRate: format.sampleRate, channels: format.channels)
                expected = max(1, format.duration * Double(format.sampleRate) * Double(format.channels))
            }) { samples in
                meter?.add(interleaved: samples)
                seen += Double(samples.count)
                context.reportProgress(min(1, seen / expected) * 0.5)
            }
        }
        return try normalize(file, measured: meter, context: context, progress: { context.reportProgress(0.5 + $0 / 2) })
    }

    /// The second pass: the one gain the measurement asks for, encoded.
    func normalize(_ file: SourceFile, measured meter: LoudnessMeter?, context: StageContext,
                   progress: @escaping (Double) -> Void) throws(StageError) -> StageValue {
        guard let measured = meter?.integrated else { throw StageError(code: "silent_input", message: "loudnorm: the audio is silent or shorter than 0.4 s") }
        let peak = meter?.samplePeak ?? 0
        let gain = min(target - measured, truePeak - 20 * log10(max(peak, 1e-9)))
        let name = "\(context.outputName).\(format.fileExtension)"
        let path = context.scratchDirectory + "/" + name
        try withFFmpeg("loudnorm", stop: context.stop) { interrupt in
            try AudioTranscode.run(input: file.path, output: path, as: format, bitRate: bitRate, sampleRate: nil, channels: nil,
                                   gain: pow(10, gain / 20), maxSeconds: context.limits.maxDurationSeconds, interrupt: interrupt, progress: progress)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let duration = (try? MediaProbe(path: path))?.duration
        func rounded(_ value: Double) -> JSONValue { .number((value * 100).rounded() / 100) }
        return .product(OutputProduct(
            files: [ProducedFile(name: name, contentType: format.contentType, size: size, duration: duration)],
            results: ["loudness": ["input": rounded(measured), "inputPeak": rounded(20 * log10(max(peak, 1e-9))),
                                   "target": rounded(target), "gain": rounded(gain)]]))
    }
}

/// Measured on a job's shared pass, encoded in a pass of the sound alone after it.
extension Loudnorm: PassParticipant {
    var readsWholeStream: Bool { false }
    var readsPicture: Bool { false }

    func join(_ pass: SourcePass, source: SourceFile, context: StageContext) throws(StageError) -> () throws(StageError) -> StageValue {
        let meter = Box<LoudnessMeter?>(nil)
        try withFFmpeg("loudnorm", stop: context.stop) { _ in
            guard let format = try pass.addSamples(channels: nil, each: { samples in meter.value?.add(interleaved: samples) }) else { return }
            meter.value = LoudnessMeter(sampleRate: format.sampleRate, channels: format.channels)
        }
        return { () throws(StageError) in
            guard meter.value != nil else { throw StageError.invalidInput("loudnorm: no audio stream") }
            return try normalize(source, measured: meter.value, context: context, progress: context.reportProgress)
        }
    }
}
