import FFmpegBindings
import PipelineEngine

/// `probe`: container and stream facts of a video or audio input, as the
/// output's `metadata` result. Reads headers only.
public struct Probe: Stage {
    public static let descriptor = StageDescriptor(
        name: "probe",
        summary: "Report format, duration and streams of a video or audio file",
        accepts: [.source(.video), .source(.audio)],
        produces: .product,
        parameters: []
    )

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {}

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        guard case let .source(file) = input else { throw StageError(code: "internal", message: "probe needs the input file") }
        let stop = context.stop
        let probe: MediaProbe
        do {
            probe = try MediaProbe(path: file.path, interrupt: InterruptFlag { stop.isStopped })
        } catch .interrupted {
            throw StageError.stopped(stop.reason ?? .canceled)
        } catch {
            throw StageError.invalidInput("probe: \(error)")
        }
        try SourceMedia.confirm(format: probe.format, kind: file.kind)
        if let duration = probe.duration, duration > context.limits.maxDurationSeconds {
            throw StageError.inputTooLarge("duration \(Int(duration)) s exceeds the limit of \(Int(context.limits.maxDurationSeconds)) s")
        }
        let metadata = (try? JSONValue(encoding: probe)) ?? .null
        return .product(OutputProduct(results: ["metadata": metadata]))
    }
}
