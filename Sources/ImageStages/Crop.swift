import StageSupport
import PipelineEngine
import VipsBindings

/// `crop`: a rectangle (`x`, `y`, `width`, `height`), or a `width` x `height`
/// region placed by `gravity` (a compass point, or `attention` / `entropy`,
/// which pick the region by content).
public struct Crop: FrameWiseStage {
    static let side = ParameterSpec.ValueType.integer(min: 1, max: ProcessingLimits.largestRequestableSide)
    static let offset = ParameterSpec.ValueType.integer(min: 0, max: 1_000_000)

    public static let descriptor = StageDescriptor(
        name: "crop",
        summary: "Cut out a rectangle, or a region of a given size placed by gravity",
        accepts: [.source(.image), .image],
        produces: .image,
        parameters: [
            ParameterSpec("x", offset, summary: "Left edge of the rectangle (with y, width and height)"),
            ParameterSpec("y", offset, summary: "Top edge of the rectangle"),
            ParameterSpec("width", side, summary: "Region width; the whole width when absent"),
            ParameterSpec("height", side, summary: "Region height; the whole height when absent"),
            ParameterSpec("gravity", .choice(Gravity.names), default: "centre", summary: "Which region to keep when no x and y are given"),
            SourceParameters.autoRotate,
        ]
    )

    enum Region: Equatable {
        case rectangle(x: Int, y: Int, width: Int, height: Int)
        case sized(width: Int?, height: Int?, gravity: Gravity)
    }

    let region: Region
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        let x = parameters.int("x"), y = parameters.int("y"), width = parameters.int("width"), height = parameters.int("height")
        autoRotate = parameters.bool("autoRotate") ?? true
        if x != nil || y != nil {
            guard let x, let y, let width, let height else {
                throw ValidationError(pointer: pointer, message: "a crop rectangle needs x, y, width and height")
            }
            if parameters.values["gravity"] != Parameters.defaultGravity {
                throw ValidationError(pointer: pointer.appending("gravity"), message: "gravity places a sized region; a rectangle with x and y needs none")
            }
            region = .rectangle(x: x, y: y, width: width, height: height)
        } else {
            guard width != nil || height != nil else { throw ValidationError(pointer: pointer, message: "crop needs width, height or both") }
            region = .sized(width: width, height: height, gravity: Gravity(parameters.string("gravity")))
        }
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        let image = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        return try withVips("crop") {
            switch region {
            case let .rectangle(x, y, width, height):
                guard x + width <= image.width, y + height <= image.height else {
                    throw StageError(code: "crop_outside_image", message:
                        "the rectangle \(width)x\(height) at (\(x), \(y)) does not lie within the \(image.width)x\(image.height) image")
                }
                return .image(try image.cropped(x: x, y: y, width: width, height: height))
            case let .sized(width, height, gravity):
                return .image(try gravity.crop(image, width: width ?? image.width, height: height ?? image.height, anchor: anchor))
            }
        }
    }
}

extension Parameters {
    static let defaultGravity: JSONValue = "centre"
}
