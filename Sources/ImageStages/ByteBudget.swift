import Foundation
import StageSupport
import PipelineEngine
import VipsBindings

/// `encode`'s `maxBytes`: the best file that fits a byte budget (a chat app's
/// upload limit, a sticker's size rule). Quality goes down first, by binary
/// search between the asked quality and `lowestQuality`; when even that is too
/// large, the pixels go: the image is scaled by the square root of what is
/// over (bytes grow about with the pixel count), and quality is searched again.
/// The file kept is always one that was written and measured within the budget.
struct ByteBudget {
    /// Below this quality, JPEG and WebP blocks show more than a smaller image's softness does.
    static let lowestQuality = 30
    /// The smallest side the image may be scaled to before the budget is declared unreachable.
    static let smallestSide = 16

    let maxBytes: Int
    let topQuality: Int

    struct Fit {
        var quality: Int
        var scale: Double
        var bytes: Int
        var width: Int
        var height: Int
        var attempts: Int
    }

    /// Writes the fitting file at `path`. `write`: encodes `image` at `quality` to a file.
    func fit(_ image: VipsImage, path: String,
             write: (_ image: VipsImage, _ quality: Int, _ path: String) throws(StageError) -> Void) throws(StageError) -> Fit {
        try fit(image, pictureSize: (image.width, image.height), path: path, scaled: { (width, height) throws(StageError) in
            try withVips("encode") { () throws(VipsError) -> VipsImage in
                try image.resized(xScale: Double(width) / Double(image.width), yScale: Double(height) / Double(image.height)).materialized()
            }
        }, write: write)
    }

    /// The same for a picture whose size is not the image's own (the frames of
    /// an animation, stacked): `pictureSize` is the picture's, and `scaled` makes it
    /// again at another.
    func fit(_ image: VipsImage, pictureSize: (width: Int, height: Int), path: String,
             scaled: (_ width: Int, _ height: Int) throws(StageError) -> VipsImage,
             write: (_ image: VipsImage, _ quality: Int, _ path: String) throws(StageError) -> Void) throws(StageError) -> Fit {
        var attempts = 0
        /// The size of the file at `path`: the last trial that fitted.
        var kept = 0
        func size(_ image: VipsImage, _ quality: Int) throws(StageError) -> Int {
            attempts += 1
            let trial = EncodeTrial.path(for: path, quality: quality)
            try write(image, quality, trial)
            let bytes = fileSize(atPath: trial) ?? Int.max
            if bytes <= maxBytes {
                kept = bytes
                try EncodeTrial.keep(trial, as: path)
            } else {
                EncodeTrial.discard(trial)
            }
            return bytes
        }
        var scale = 1.0
        var current = image
        var currentSize = pictureSize
        let lowest = min(Self.lowestQuality, topQuality)
        while true {
            if try size(current, topQuality) <= maxBytes {
                return Fit(quality: topQuality, scale: scale, bytes: kept, width: currentSize.width, height: currentSize.height, attempts: attempts)
            }
            let atLowest = try size(current, lowest)
            if atLowest <= maxBytes {
                // The highest quality that fits, between one that fits and one that does not.
                var (fits, over) = (lowest, topQuality)
                while over - fits > 1 {
                    let middle = (fits + over) / 2
                    if try size(current, middle) <= maxBytes { fits = middle } else { over = middle }
                }
                // A trial that fits replaces the file kept, one that does not leaves it: `path` holds `fits`'s.
                return Fit(quality: fits, scale: scale, bytes: kept, width: currentSize.width, height: currentSize.height, attempts: attempts)
            }
            // Bytes grow about with the pixel count: shrink by the root of the excess, and a little more.
            scale *= min(0.9, (Double(maxBytes) / Double(atLowest)).squareRoot() * 0.95)
            let width = Int((Double(pictureSize.width) * scale).rounded()), height = Int((Double(pictureSize.height) * scale).rounded())
            guard min(width, height) >= Self.smallestSide else {
                throw StageError(code: "budget_unreachable",
                                 message: "no \(pictureSize.width)×\(pictureSize.height) image fits in \(maxBytes) bytes at quality \(lowest) down to \(Self.smallestSide) px a side")
            }
            current = try scaled(width, height)
            currentSize = (width, height)
        }
    }
}
