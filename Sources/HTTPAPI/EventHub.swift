import Synchronization

/// Wakes the event streams of a job when NOTIFY says it has new events. A
/// stream waits with a timeout (for its keep-alive comment), so a lost
/// notification delays an event by one wait at most.
public final class EventHub: Sendable {
    final class Waiter: Sendable {
        let state = Mutex<(pending: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, nil))

        func wake() {
            let continuation = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state = (state.continuation == nil, nil) }
                return state.continuation
            }
            continuation?.resume()
        }

        /// Returns when woken (or woken before it was called), or after `seconds`.
        func wait(seconds: Double) async {
            await withCheckedContinuation { continuation in
                let already = state.withLock { state -> Bool in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.continuation = continuation
                    return false
                }
                if already {
                    continuation.resume()
                    return
                }
                Task { [weak self] in
                    try? await Task.sleep(for: .seconds(seconds))
                    guard let self else { return }
                    let timedOut = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
                        defer { state.continuation = nil }
                        return state.continuation
                    }
                    timedOut?.resume()
                }
            }
        }
    }

    private let waiters = Mutex<[String: [ObjectIdentifier: Waiter]]>([:])
    /// Settled job reads; a NOTIFY naming a job drops its entry.
    let settledJobs = SettledJobCache()

    public init() {}

    func subscribe(_ jobID: String) -> Waiter {
        let waiter = Waiter()
        waiters.withLock { $0[jobID, default: [:]][ObjectIdentifier(waiter)] = waiter }
        return waiter
    }

    func unsubscribe(_ jobID: String, _ waiter: Waiter) {
        waiters.withLock { all in
            all[jobID]?[ObjectIdentifier(waiter)] = nil
            if all[jobID]?.isEmpty == true { all[jobID] = nil }
        }
    }

    /// Called for each NOTIFY on the events channel (its payload is the job's id).
    public func notify(_ jobID: String) {
        settledJobs.remove(id: jobID)
        for waiter in waiters.withLock({ Array(($0[jobID] ?? [:]).values) }) { waiter.wake() }
    }
}
