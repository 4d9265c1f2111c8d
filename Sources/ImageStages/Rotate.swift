import StageSupport
import Foundation
import PipelineEngine
import VipsBindings

/// `rotate`: clockwise by `angle` degrees. Multiples of 90 move pixels without
/// resampling; any other angle resamples and fills the uncovered corners.
public struct Rotate: FrameWiseStage {
    public static let descriptor = StageDescriptor(
        name: "rotate",
        summary: "Rotate clockwise by any angle (multiples of 90 are lossless)",
        accepts: [.source(.image), .image],
        produces: .image,
        parameters: [
            ParameterSpec("angle", .number(min: -360, max: 360), required: true, summary: "Degrees clockwise"),
            ParameterSpec("background", .colour, summary: "Fill for the corners a free angle uncovers; default transparent with alpha, else black"),
            SourceParameters.autoRotate,
        ]
    )

    let angle: Double
    let background: Colour?
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        angle = parameters.double("angle") ?? 0
        background = parameters.colour("background")
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        var image = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        return try withVips("rotate") {
            let quarter = angle / 90
            if quarter == quarter.rounded() { return .image(try image.rotated(quarterTurns: Int(quarter))) }
            let radians = angle * .pi / 180
            let width = Int((Double(image.width) * abs(cos(radians)) + Double(image.height) * abs(sin(radians))).rounded(.up))
            let height = Int((Double(image.width) * abs(sin(radians)) + Double(image.height) * abs(cos(radians))).rounded(.up))
            try OutputBounds.check(width: width, height: height, limits: context.limits, operation: "rotate")
            if let background, background.alpha < 255, !image.hasAlpha { image = try image.addingAlpha() }
            return .image(try image.rotated(degrees: angle, background: image.background(background)))
        }
    }
}
