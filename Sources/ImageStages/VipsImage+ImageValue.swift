import Foundation
import PipelineEngine
import VipsBindings

/// Parameters every stage that can read the job's input shares.
enum SourceParameters {
    static let autoRotate = ParameterSpec(
        "autoRotate", .boolean, default: true, sourceOnly: true,
        summary: "Apply the EXIF orientation when reading the input (first step only); false keeps the stored pixels")
}

extension StageValue {
    /// The decoded image this step works on: the pipeline's image, or the input
    /// file opened lazily (header only), checked against the pixel limits and,
    /// unless `autoRotate` is false, turned upright as its EXIF tag says, so
    /// that what the media record reports is what comes out.
    func vipsImage(limits: ProcessingLimits, autoRotate: Bool = true) throws(StageError) -> VipsImage {
        switch self {
        case let .image(image as VipsImage):
            return image
        case let .image(animation as Animation):
            // A step that does not work frame by frame sees the first frame, as a still.
            return animation.frames[0]
        case let .source(file) where file.kind == .image:
            let image = try SourceImage.header(file, limits: limits)
            guard autoRotate else { return image }
            do { return try image.autoRotated() } catch {
                throw StageError.invalidInput("cannot orient image: \(error.message)")
            }
        default:
            throw StageError(code: "internal", message: "expected an image, got \(kind)")
        }
    }

    /// Width and height as the step will see them, known without decoding:
    /// the header's, swapped when EXIF says the picture is turned a quarter.
    func orientedSize(limits: ProcessingLimits, autoRotate: Bool) throws(StageError) -> (width: Int, height: Int) {
        let source = try orientedSource(limits: limits, autoRotate: autoRotate)
        return (source.width, source.height)
    }

    /// The size as shown and, when the input is still the file, its header
    /// (opened once, with the limit checks) for a step that decodes it itself.
    func orientedSource(limits: ProcessingLimits, autoRotate: Bool) throws(StageError) -> (header: VipsImage?, width: Int, height: Int) {
        switch self {
        case let .source(file) where file.kind == .image:
            let oriented = try SourceImage.orientedHeader(file, limits: limits, autoRotate: autoRotate)
            return (oriented.header, oriented.width, oriented.height)
        default:
            let image = try vipsImage(limits: limits)
            return (nil, image.width, image.height)
        }
    }
}

enum SourceImage {
    /// The libvips loaders of the formats Kiln accepts. The upload sniffer
    /// decided from a few bytes; the loader libvips picked is the decoder's own
    /// verdict, and anything else (a TIFF, an SVG, a matrix file) is refused.
    static let acceptedLoaders: Set<String> = ["jpegload", "pngload", "webpload", "gifload", "heifload"]

    /// The loader for each type the upload sniffer reports.
    static let loaderBySniffedType: [String: String] = [
        "image/jpeg": "jpegload", "image/png": "pngload", "image/gif": "gifload", "image/webp": "webpload",
        "image/avif": "heifload", "image/heic": "heifload", "image/heif": "heifload",
    ]

    /// The file's header and its size as shown (EXIF orientation applied unless `autoRotate` is false).
    static func orientedHeader(_ file: SourceFile, limits: ProcessingLimits, autoRotate: Bool) throws(StageError)
        -> (header: VipsImage, width: Int, height: Int) {
        let header = try header(file, limits: limits)
        let turned = autoRotate && header.orientation >= 5
        return (header, turned ? header.height : header.width, turned ? header.width : header.height)
    }

    /// Opens the input's header and refuses unaccepted formats and decompression
    /// bombs before any pixel is decoded.
    static func header(_ file: SourceFile, limits: ProcessingLimits) throws(StageError) -> VipsImage {
        let image: VipsImage
        do {
            // The sniffed type names the loader. When it fails (or the sniffer named none),
            // libvips' own choice decides, so a file that is not what it was taken for gets
            // the decoder's verdict: another format (unsupported) or a broken one.
            if let loader = loaderBySniffedType[file.contentType], let opened = try? VipsImage.open(path: file.path, loader: loader) {
                image = opened
            } else {
                image = try VipsImage.open(path: file.path)
            }
        } catch {
            // Only the accepted loaders may run (`Vips.allowedLoaders`): a file none of them
            // takes is, for Kiln, a format it does not accept.
            if error.message.contains("is not a known file format") || error.message.contains("operation is blocked") {
                throw StageError(code: "unsupported_format", message: "no decoder Kiln accepts (JPEG, PNG, GIF, WebP, HEIF/AVIF) reads this file")
            }
            throw StageError.invalidInput("cannot read image: \(error.message)")
        }
        let loader = baseLoader(image.loader ?? "unknown")
        guard acceptedLoaders.contains(loader) else {
            throw StageError(code: "unsupported_format", message: "libvips reads this file with \(loader), which Kiln does not accept")
        }
        try ImageLimits.check(width: image.width, height: image.height, limits: limits)
        if let animation = try Animation.header(of: file, image: image) { try Animation.checkLimits(animation, limits: limits) }
        return image
    }

    /// `gifload` for `gifload_source` or `gifload_buffer`.
    static func baseLoader(_ loader: String) -> String {
        loader.replacingOccurrences(of: "_source", with: "").replacingOccurrences(of: "_buffer", with: "")
    }
}

enum ImageLimits {
    /// Refuses decompression bombs from the header alone, before any pixel is decoded.
    static func check(width: Int, height: Int, limits: ProcessingLimits) throws(StageError) {
        if width > limits.maxImageDimension || height > limits.maxImageDimension || width * height > limits.maxImagePixels {
            throw StageError.inputTooLarge(
                "image is \(width)x\(height); the limit is \(limits.maxImagePixels) pixels and \(limits.maxImageDimension) per side"
            )
        }
    }
}
