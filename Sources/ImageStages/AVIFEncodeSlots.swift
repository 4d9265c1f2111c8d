import Foundation
import PipelineEngine
import Synchronization

/// How many AVIF encodes run at once in this process. An AV1 encode of a
/// 2048 px image holds about 75 MB and already keeps ~1.7 cores busy (libaom's
/// own threads), so more encodes at once than half the cores buy no speed and
/// multiply the memory: eight product-photo jobs at once peaked at 569 MB, most
/// of it eight AV1 encoders. `KILN_AVIF_CONCURRENCY` overrides.
enum AVIFEncodeSlots {
    static let capacity: Int = {
        if let text = ProcessInfo.processInfo.environment["KILN_AVIF_CONCURRENCY"], let value = Int(text), value > 0 { return value }
        return max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
    }()

    private static let inUse = Mutex(0)

    /// Runs `body` holding a slot. Waits on the calling (blocking-pool) thread,
    /// and gives up as soon as the job is asked to stop.
    static func withSlot<T>(stop: StopToken, _ body: () throws(StageError) -> T) throws(StageError) -> T {
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
