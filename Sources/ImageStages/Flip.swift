import PipelineEngine
import VipsBindings

/// `flip`: mirrors the image top to bottom.
public struct Flip: Stage {
    public static let descriptor = StageDescriptor(
        name: "flip", summary: "Mirror top to bottom", accepts: [.source(.image), .image], produces: .image,
        parameters: [SourceParameters.autoRotate])

    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        let image = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        do { return .image(try image.mirrored(horizontal: false)) } catch { throw error.stageError("flip") }
    }
}
