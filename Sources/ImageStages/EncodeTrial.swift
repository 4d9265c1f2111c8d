import Foundation
import PipelineEngine

/// A trial encode of `encode`'s searches (`maxBytes`, `targetQuality`): written
/// beside the output, then either made the output or removed, so the output is
/// always a file that was written and measured whole.
enum EncodeTrial {
    static func path(for output: String, quality: Int) -> String { output + ".q\(quality)" }

    /// Makes the trial the output, replacing whichever trial was kept before.
    static func keep(_ trial: String, as output: String) throws(StageError) {
        try? FileManager.default.removeItem(atPath: output)
        do { try FileManager.default.moveItem(atPath: trial, toPath: output) } catch {
            throw StageError(code: "storage_unavailable", message: "keeping the encoded file: \(error)", retryable: true)
        }
    }

    static func discard(_ trial: String) { try? FileManager.default.removeItem(atPath: trial) }
}
