import Foundation
import PipelineEngine
import VipsBindings

/// `encode`: writes the image in a delivery format. This is where libvips
/// evaluates the whole lazy pipeline, so source decode errors surface here.
public struct Encode: Stage {
    public static let formats = ["jpeg", "png", "webp"]

    public static let descriptor = StageDescriptor(
        name: "encode",
        summary: "Encode the image as JPEG, PNG or WebP",
        accepts: [.source(.image), .image],
        produces: .product,
        parameters: [
            ParameterSpec("format", .choice(formats), summary: "Output format; default JPEG, or PNG when the image has alpha"),
            ParameterSpec("quality", .integer(min: 1, max: 100), default: 80, summary: "Lossy quality (JPEG, WebP)"),
            ParameterSpec("lossless", .boolean, default: false, summary: "Lossless WebP"),
            ParameterSpec("stripMetadata", .boolean, default: true, summary: "Drop EXIF, XMP and ICC metadata (orientation is already applied)"),
            SourceParameters.autoRotate,
        ]
    )

    let format: String?
    let quality: Int
    let lossless: Bool
    let strip: Bool
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        format = parameters.string("format")
        quality = parameters.int("quality") ?? 80
        lossless = parameters.bool("lossless") ?? false
        strip = parameters.bool("stripMetadata") ?? true
        autoRotate = parameters.bool("autoRotate") ?? true
        if lossless, let format, format != "webp" {
            throw ValidationError(pointer: pointer.appending("lossless"), message: "lossless applies to webp only, not \(format)")
        }
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        let image = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        let chosen = format ?? (image.hasAlpha ? "png" : "jpeg")
        let (encoding, ext, contentType): (ImageEncoding, String, String) = switch chosen {
        case "png": (.png(compression: 6, strip: strip), "png", "image/png")
        case "webp": (.webp(quality: quality, lossless: lossless, strip: strip), "webp", "image/webp")
        default: (.jpeg(quality: quality, strip: strip), "jpg", "image/jpeg")
        }
        let name = "\(context.outputName).\(ext)"
        let path = context.scratchDirectory + "/" + name
        let stop = context.stop
        let report = context.reportProgress
        let watch = EvaluationWatch(progress: { report(Double($0) / 100) }, shouldStop: { stop.isStopped })
        do {
            try image.save(to: path, as: encoding, watch: watch)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            if let reason = stop.reason { throw StageError.stopped(reason) }
            throw StageError.invalidInput("encode \(chosen): \(error.message)")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return .product(OutputProduct(files: [
            ProducedFile(name: name, contentType: contentType, size: size, width: image.width, height: image.height),
        ]))
    }
}
