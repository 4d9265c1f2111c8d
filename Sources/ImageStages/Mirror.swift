import StageSupport
import PipelineEngine
import VipsBindings

/// What `flip` and `flop` share: a mirror image, one way or the other.
enum Mirror {
    static func descriptor(name: String, summary: String) -> StageDescriptor {
        StageDescriptor(name: name, summary: summary, accepts: [.source(.image), .image], produces: .image, parameters: [SourceParameters.autoRotate])
    }

    static func run(_ input: StageValue, context: StageContext, horizontal: Bool, autoRotate: Bool) throws(StageError) -> StageValue {
        let image = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        return try withVips(horizontal ? "flop" : "flip") { .image(try image.mirrored(horizontal: horizontal)) }
    }
}
