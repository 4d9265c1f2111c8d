import PipelineEngine
import Synchronization

/// How many video and audio jobs this process runs at once, at most. A claim
/// loop reserves a slot before it claims; with none free it claims image jobs
/// only, so long transcodes never hold every slot while thumbnails wait.
final class VideoSlots: Sendable {
    private let used = Mutex(0)
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Takes a slot if one is free.
    func reserve() -> Bool {
        used.withLock { count in
            guard count < capacity else { return false }
            count += 1
            return true
        }
    }

    func release() { used.withLock { $0 -= 1 } }

    /// The kinds a claim may take, given whether it holds a reserved slot.
    static func claimableKinds(holdingSlot: Bool) -> [MediaKind]? {
        holdingSlot ? nil : [.image]
    }
}
