import Foundation
import PipelineEngine
import StageSupport
import VipsBindings

/// `encode`'s `targetQuality`: the smallest file that still looks like the
/// image, by a perceptual score rather than a fixed quality number. Each
/// trial is encoded, decoded and scored (SSIM on luma, against the pixels
/// being encoded); a binary search finds the lowest quality that reaches the
/// target, as a photo that compresses easily needs a lower quality than a
/// detailed one for the same look.
struct QualityTarget {
    /// Where the search starts; below it JPEG and WebP blocks show whatever the score says.
    static let lowestQuality = 20

    let target: Double

    struct Fit {
        var quality: Int
        var score: Double
        var bytes: Int
        var attempts: Int
        /// False when even quality 100 stays under the target: its file is kept.
        var met: Bool
    }

    /// Writes the chosen file at `path`. `write`: encodes `image` at `quality` to a file.
    func fit(_ image: VipsImage, path: String,
             write: (_ image: VipsImage, _ quality: Int, _ path: String) throws(StageError) -> Void) throws(StageError) -> Fit {
        var attempts = 0
        var kept: (quality: Int, score: Double, bytes: Int)?
        func score(_ quality: Int) throws(StageError) -> Double {
            attempts += 1
            let trial = EncodeTrial.path(for: path, quality: quality)
            try write(image, quality, trial)
            let score: Double
            do {
                score = try withVips("encode") { try image.structuralSimilarity(to: try VipsImage.open(path: trial)) }
            } catch {
                EncodeTrial.discard(trial)
                throw error
            }
            if score >= target || quality == 100 {
                kept = (quality, score, fileSize(atPath: trial) ?? 0)
                try EncodeTrial.keep(trial, as: path)
            } else {
                EncodeTrial.discard(trial)
            }
            return score
        }
        // The lowest quality in [lowest, 100] that reaches the target (scores rise with quality).
        var (low, high) = (Self.lowestQuality, 100)
        while low < high {
            let middle = (low + high) / 2
            if try score(middle) >= target { high = middle } else { low = middle + 1 }
        }
        if kept?.quality != low { _ = try score(low) }
        guard let kept else { throw StageError(code: "internal", message: "no trial was kept") }
        return Fit(quality: kept.quality, score: kept.score, bytes: kept.bytes, attempts: attempts, met: kept.score >= target)
    }
}
