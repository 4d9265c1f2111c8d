import PipelineEngine

/// `trim`: seconds of the video as it plays at this point of the edits (after
/// a speed change, the seconds are the faster ones).
struct Trim: Stage, VideoEdit {
    static let descriptor = StageDescriptor(
        name: "trim",
        summary: "Keep a span of a video: start and duration in seconds",
        accepts: VideoEditKinds.accepts,
        produces: .video,
        parameters: [
            ParameterSpec("start", .number(min: 0, max: 86_400), default: 0, summary: "Seconds to skip"),
            ParameterSpec("duration", .number(min: 0.1, max: 86_400), summary: "Seconds to keep; default to the end"),
        ]
    )

    let start: Double
    let duration: Double?

    init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        start = parameters.double("start") ?? 0
        duration = parameters.double("duration")
        if start == 0, duration == nil {
            throw ValidationError(pointer: pointer, message: "trim needs a start or a duration")
        }
    }

    init(start: Double, duration: Double?) {
        self.start = start
        self.duration = duration
    }

    func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        try input.adding(self, "trim")
    }

    func retime(_ timing: inout EditTiming) { timing.trim(start: start, duration: duration) }
}
