import PipelineEngine
import VipsBindings

/// `flop`: mirrors the image left to right.
public struct Flop: Stage {
    public static let descriptor = StageDescriptor(
        name: "flop", summary: "Mirror left to right", accepts: [.source(.image), .image], produces: .image,
        parameters: [SourceParameters.autoRotate])

    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        let image = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        do { return .image(try image.mirrored(horizontal: true)) } catch { throw error.stageError("flop") }
    }
}
