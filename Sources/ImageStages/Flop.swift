import PipelineEngine

/// `flop`: mirrors the image left to right.
public struct Flop: FrameWiseStage {
    public static let descriptor = Mirror.descriptor(name: "flop", summary: "Mirror left to right")
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        try Mirror.run(input, context: context, horizontal: true, autoRotate: autoRotate)
    }
}
