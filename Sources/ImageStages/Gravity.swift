import PipelineEngine
import VipsBindings

/// Which part of an image a crop keeps: a compass position, or a region chosen
/// by content (libvips' attention and entropy strategies).
enum Gravity: Sendable, Equatable {
    case compass(Compass)
    case content(Interesting)

    static let names = Compass.allCases.map(\.rawValue) + ["attention", "entropy"]

    init(_ name: String?) {
        switch name {
        case "attention": self = .content(.attention)
        case "entropy": self = .content(.entropy)
        default: self = .compass(name.flatMap(Compass.init(rawValue:)) ?? .centre)
        }
    }

    /// Crops `image` to `width` x `height` (each at most the image's own).
    func crop(_ image: VipsImage, width: Int, height: Int) throws(VipsError) -> VipsImage {
        let width = min(width, image.width), height = min(height, image.height)
        switch self {
        case let .compass(compass):
            let origin = compass.origin(width: width, height: height, in: image.width, image.height)
            return try image.cropped(x: origin.x, y: origin.y, width: width, height: height)
        case let .content(interesting):
            if width == image.width && height == image.height { return image }
            return try image.smartCropped(width: width, height: height, interesting: interesting)
        }
    }
}

extension VipsImage {
    /// `colour` as band values for this image, or the default background:
    /// transparent where the image has alpha, else black.
    func background(_ colour: Colour?) -> [Double] {
        (colour ?? (hasAlpha ? .transparent : .black)).bandValues(bands: bands)
    }
}
