import Foundation
import PipelineEngine
import Synchronization

/// How many big encodes run at once in this process. An encode evaluates the
/// whole lazy pipeline behind it and holds the encoder's buffers: an AV1
/// encode of a 2048 px image ~75 MB (and libaom already keeps ~1.7 cores
/// busy), a WebP of a 1920 px image ~25 MB. More of them at once than the cores
/// can run buy no speed and multiply the memory: eight product-photo jobs at
/// once peaked at 569 MB, most of it eight AV1 encoders.
final class EncodeSlots: Sendable {
    /// AVIF and HEIC (AV1 and HEVC encoders, each already multi-threaded): half the cores, at least 1 (`KILN_AVIF_CONCURRENCY` overrides).
    static let avif = EncodeSlots(capacity: configured("KILN_AVIF_CONCURRENCY") ?? max(1, cores / 2))
    /// Any other encode of at least `largePixels`: one per core.
    static let large = EncodeSlots(capacity: cores)
    static let largePixels = 1_000_000

    static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    static func configured(_ name: String) -> Int? {
        guard let text = ProcessInfo.processInfo.environment[name], let value = Int(text), value > 0 else { return nil }
        return value
    }

    /// The slots an encode of `pixels` to `format` takes, if any.
    static func slots(for format: Encode.Format, pixels: Int) -> EncodeSlots? {
        if format == .avif || format == .heic { return avif }
        return pixels >= largePixels ? large : nil
    }

    let capacity: Int
    private let inUse = Mutex(0)

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Runs `body` holding a slot. Waits on the calling (blocking-pool) thread,
    /// and gives up as soon as the job is asked to stop.
    func withSlot<T>(stop: StopToken, _ body: () throws(StageError) -> T) throws(StageError) -> T {
        while !inUse.withLock({ count in
            guard count < capacity else { return false }
            count += 1
            return true
        }) {
            if let reason = stop.reason { throw StageError.stopped(reason) }
            usleep(5_000)
        }
        defer { inUse.withLock { $0 -= 1 } }
        return try body()
    }
}
