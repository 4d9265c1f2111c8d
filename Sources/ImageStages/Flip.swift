import PipelineEngine

/// `flip`: mirrors the image top to bottom.
public struct Flip: FrameWiseStage {
    public static let descriptor = Mirror.descriptor(name: "flip", summary: "Mirror top to bottom")
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        try Mirror.run(input, context: context, horizontal: false, autoRotate: autoRotate)
    }
}
