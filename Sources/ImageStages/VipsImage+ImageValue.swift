import PipelineEngine
import VipsBindings

extension VipsImage: ImageValue {}

extension StageValue {
    /// The decoded image this step works on: the pipeline's image, or the input
    /// file opened lazily (header only) and checked against the pixel limits.
    func vipsImage(limits: ProcessingLimits) throws(StageError) -> VipsImage {
        switch self {
        case let .image(image as VipsImage):
            return image
        case let .source(file) where file.kind == .image:
            let image: VipsImage
            do { image = try VipsImage.open(path: file.path) } catch {
                throw StageError.invalidInput("cannot read image: \(error.message)")
            }
            try ImageLimits.check(width: image.width, height: image.height, limits: limits)
            return image
        default:
            throw StageError(code: "internal", message: "expected an image, got \(kind)")
        }
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
