import FFmpegBindings
import StageSupport
import PipelineEngine

/// `waveform`: min/max peaks of the sound for `points` equal spans, mixed to
/// mono, in BBC audiowaveform's JSON shape (version 2, 8-bit values) as the
/// output's `waveform` result, ready for peaks.js-style players. With
/// `buckets`, also the compact bars a chat app draws under a voice note
/// (`compactWaveform`, see `CompactWaveform`).
public struct Waveform: Stage {
    public static let descriptor = StageDescriptor(
        name: "waveform",
        summary: "Min/max peaks of the audio for N points (BBC audiowaveform JSON, 8-bit), as the output's waveform result",
        accepts: [.source(.audio), .source(.video)],
        produces: .product,
        parameters: [
            ParameterSpec("points", .integer(min: 8, max: 10_000), default: 800, summary: "How many min/max pairs"),
            ParameterSpec("buckets", .integer(min: CompactWaveform.allowedBuckets.lowerBound, max: CompactWaveform.allowedBuckets.upperBound),
                          summary: "Also this many 5-bit bars (64 or 100 for chat apps), packed and base64-encoded, as compactWaveform"),
        ]
    )

    let points: Int
    let buckets: Int?

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        points = parameters.int("points") ?? 800
        buckets = parameters.int("buckets")
        if let buckets, buckets > points {
            throw ValidationError(pointer: pointer.appending("buckets"), message: "at most points (\(points)): each bar spans whole points")
        }
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        if let shared = try sharedValue(input, context: context) { return shared }
        guard case let .source(file) = input else { throw StageError(code: "internal", message: "waveform needs the input file") }
        let peaks = try withFFmpeg("waveform", stop: context.stop) { interrupt in
            try AudioPeaks(path: file.path, points: points, maxSeconds: context.limits.maxDurationSeconds, interrupt: interrupt, progress: context.reportProgress)
        }
        return product(peaks)
    }

    func product(_ peaks: AudioPeaks) -> StageValue {
        func eightBit(_ value: Float) -> JSONValue { .number(Double(max(-128, min(127, (value * 127).rounded())))) }
        let data = peaks.peaks.flatMap { [eightBit($0.min), eightBit($0.max)] }
        var results: [String: JSONValue] = ["waveform": [
            "version": 2, "channels": 1, "bits": 8,
            "sample_rate": .number(Double(peaks.sampleRate)), "samples_per_pixel": .number(Double(peaks.samplesPerPoint)),
            "length": .number(Double(peaks.peaks.count)), "data": .array(data),
        ]]
        if let buckets {
            results["compactWaveform"] = .string(CompactWaveform.packed(CompactWaveform.bars(peaks, buckets: buckets)).base64EncodedString())
            results["compactWaveformBuckets"] = .number(Double(buckets))
        }
        results["duration"] = .number(Double(peaks.samples) / Double(peaks.sampleRate))
        return .product(OutputProduct(results: results))
    }
}

extension Waveform: PassParticipant {
    var readsWholeStream: Bool { false }
    var readsPicture: Bool { false }

    func join(_ pass: SourcePass, source: SourceFile, context: StageContext) throws(StageError) -> () throws(StageError) -> StageValue {
        let builder = Box<AudioPeaks.Builder?>(nil)
        try withFFmpeg("waveform", stop: context.stop) { _ in
            guard let format = try pass.addSamples(channels: 1, each: { samples in builder.value?.add(samples) }) else { return }
            builder.value = AudioPeaks.Builder(points: points, format: format)
        }
        return { () throws(StageError) in
            guard let peaks = builder.value?.peaks, peaks.samples > 0 else {
                throw StageError.invalidInput("waveform: no audio could be decoded")
            }
            return product(peaks)
        }
    }
}
