import Synchronization

/// The latest progress of a running output, written from the blocking thread
/// that runs a step and read by the task that reports it; a `Mutex` keeps the
/// two threads apart without an actor hop per frame.
final class ProgressBoard: Sendable {
    private let value = Mutex<(progress: Double, dirty: Bool)>((0, false))

    func set(_ progress: Double) {
        value.withLock { $0 = (progress, true) }
    }

    /// The progress if it changed since the last take.
    func take() -> Double? {
        value.withLock { state in
            guard state.dirty else { return nil }
            state.dirty = false
            return state.progress
        }
    }
}
