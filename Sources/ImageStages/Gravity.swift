import PipelineEngine
import VipsBindings

/// Which part of an image a crop keeps: a compass position, or a region chosen
/// by content (libvips' attention and entropy strategies).
enum Gravity: Sendable, Equatable {
    case compass(Compass)
    case content(Interesting)
    /// Centred on the detected faces (all of them); `attention` when there are none.
    case faces

    static let names = Compass.allCases.map(\.rawValue) + ["attention", "entropy", "face"]

    init(_ name: String?) {
        switch name {
        case "attention": self = .content(.attention)
        case "entropy": self = .content(.entropy)
        case "face": self = .faces
        default: self = .compass(name.flatMap(Compass.init(rawValue:)) ?? .centre)
        }
    }

    var isCompass: Bool {
        if case .compass = self { return true }
        return false
    }

    /// Crops `image` to `width` x `height` (each at most the image's own). With
    /// an `anchor`, a place chosen by content is chosen once, on the first
    /// frame, and the later frames are cut where it was.
    func crop(_ image: VipsImage, width: Int, height: Int, anchor: CropAnchor? = nil) throws -> VipsImage {
        let width = min(width, image.width), height = min(height, image.height)
        guard let anchor, !isCompass, width < image.width || height < image.height else { return try place(image, width: width, height: height) }
        if let origin = anchor.origin {
            return try image.cropped(x: min(origin.x, image.width - width), y: min(origin.y, image.height - height), width: width, height: height)
        }
        let cropped = try place(image, width: width, height: height)
        anchor.origin = cropped.cropOrigin
        return cropped
    }

    private func place(_ image: VipsImage, width: Int, height: Int) throws -> VipsImage {
        switch self {
        case let .compass(compass):
            let origin = compass.origin(width: width, height: height, in: image.width, image.height)
            return try image.cropped(x: origin.x, y: origin.y, width: width, height: height)
        case let .content(interesting):
            if width == image.width && height == image.height { return image }
            return try image.smartCropped(width: width, height: height, interesting: interesting)
        case .faces:
            if width == image.width && height == image.height { return image }
            // The faces are read once from a rendered copy; the crop is then taken from it.
            let rendered = try image.materialized()
            guard let around = Region.union(try FaceDetector.faces(in: rendered)) else {
                return try rendered.smartCropped(width: width, height: height, interesting: .attention)
            }
            let x = min(max(0, around.x + around.width / 2 - width / 2), image.width - width)
            let y = min(max(0, around.y + around.height / 2 - height / 2), image.height - height)
            return try rendered.cropped(x: x, y: y, width: width, height: height)
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
