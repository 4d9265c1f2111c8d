import PipelineEngine
import StageSupport
import VipsBindings

/// A step that works on one picture at a time: given an animation (or an
/// animated input file) it runs on every frame alike and yields an animation
/// with the same frame delays and loop count; given a still it runs once.
public protocol FrameWiseStage: Stage {
    /// The step on one picture: the input file, a still, or a frame of an
    /// animation. `anchor` is set for frames: a crop placed by content is
    /// chosen on the first frame and kept for the rest, so the picture does
    /// not jump from frame to frame.
    func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue
}

extension FrameWiseStage {
    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        try runEachFrame(input, context: context)
    }

    func runEachFrame(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        let animation: Animation
        switch input {
        case let .image(value as Animation):
            animation = value
        case let .source(file) where file.kind == .image:
            guard let loaded = try Animation.load(file, limits: context.limits, stop: context.stop) else {
                return try runFrame(input, context: context, anchor: nil)
            }
            animation = loaded
        default:
            return try runFrame(input, context: context, anchor: nil)
        }
        let anchor = CropAnchor()
        let name = Self.descriptor.name
        return .image(try animation.mapFrames { (frame) throws(StageError) -> VipsImage in
            try context.stop.check()
            guard case let .image(image as VipsImage) = try runFrame(.image(frame), context: context, anchor: anchor) else {
                throw StageError(code: "internal", message: "\(name) made no picture of a frame")
            }
            return image
        })
    }
}

/// Where the first frame's crop, placed by content, was taken from; the later
/// frames of the same animation are cut at the same place.
public final class CropAnchor {
    var origin: (x: Int, y: Int)?

    public init() {}
}
