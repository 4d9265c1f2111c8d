import PipelineEngine

/// `speed`: the video played faster or slower; the sound keeps its pitch
/// (libavfilter's atempo), and frames are kept, never blended.
struct Speed: Stage, VideoEdit {
    static let descriptor = StageDescriptor(
        name: "speed",
        summary: "Play video faster or slower (0.25 to 4), the sound at its own pitch",
        accepts: VideoEditKinds.accepts,
        produces: .video,
        parameters: [ParameterSpec("factor", .number(min: 0.25, max: 4), required: true, summary: "2 plays twice as fast, 0.5 at half speed")]
    )

    let factor: Double

    init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        factor = parameters.double("factor") ?? 1
        guard factor != 1 else { throw ValidationError(pointer: pointer.appending("factor"), message: "A factor of 1 changes nothing") }
    }

    func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        try input.adding(self, "speed")
    }

    func retime(_ timing: inout EditTiming) { timing.speed *= factor }
}
