import PipelineEngine
import VipsBindings

/// `thumbnail`: a small image that fits or fills a box. From the input file it
/// uses libvips' shrink-on-load, so a 50-megapixel JPEG is decoded at a fraction
/// of its size; EXIF orientation is applied unless `autoRotate` is false.
public struct Thumbnail: Stage {
    public static let descriptor = StageDescriptor(
        name: "thumbnail",
        summary: "Shrink an image to fit or fill a box (shrink-on-load for speed)",
        accepts: [.source(.image), .image],
        produces: .image,
        parameters: [
            ParameterSpec("width", .integer(min: 1, max: 16384), summary: "Box width in pixels"),
            ParameterSpec("height", .integer(min: 1, max: 16384), summary: "Box height in pixels"),
            ParameterSpec("fit", .choice(ThumbnailFit.allCases.map(\.rawValue)), default: "inside",
                          summary: "inside: fit, never enlarge; contain: fit, may enlarge; cover: fill and centre-crop; attention: fill and crop to the most interesting region"),
            ParameterSpec("autoRotate", .boolean, default: true, summary: "Apply EXIF orientation"),
        ]
    )

    /// libvips' largest coordinate: "no constraint" on the axis the caller left out.
    static let unbounded = 10_000_000

    let width: Int
    let height: Int
    let fit: ThumbnailFit
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        guard parameters.int("width") != nil || parameters.int("height") != nil else {
            throw ValidationError(pointer: pointer, message: "thumbnail needs width, height or both")
        }
        let fit = ThumbnailFit(rawValue: parameters.string("fit") ?? "inside") ?? .inside
        if fit == .cover || fit == .attention, parameters.int("width") == nil || parameters.int("height") == nil {
            throw ValidationError(pointer: pointer.appending("fit"), message: "fit \(fit.rawValue) needs both width and height")
        }
        width = parameters.int("width") ?? Self.unbounded
        height = parameters.int("height") ?? Self.unbounded
        self.fit = fit
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        do {
            if case let .source(file) = input {
                // Header check first: a bomb is refused before libvips allocates.
                _ = try input.vipsImage(limits: context.limits)
                return .image(try VipsImage.thumbnail(path: file.path, width: width, height: height, fit: fit, autoRotate: autoRotate))
            }
            return .image(try input.vipsImage(limits: context.limits).thumbnail(width: width, height: height, fit: fit))
        } catch let error as VipsError {
            throw StageError.invalidInput("thumbnail: \(error.message)")
        } catch let error as StageError {
            throw error
        } catch {
            throw StageError(code: "internal", message: "\(error)")
        }
    }
}
