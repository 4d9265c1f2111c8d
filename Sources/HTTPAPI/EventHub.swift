import JobStore
import ServiceLifecycle
import Synchronization

/// Wakes the event streams of a job when NOTIFY says it has new events. A
/// stream waits with a timeout (for its keep-alive comment), so a lost
/// notification delays an event by one wait at most.
public final class EventHub: Sendable {
    final class Waiter: Sendable {
        /// `pending`: woken while not waiting; `needsRead`: some wake since the last
        /// wait may have ended the job (its status was final, or not given).
        let state = Mutex<(pending: Bool, needsRead: Bool, continuation: CheckedContinuation<Bool, Never>?)>((false, false, nil))

        func wake(status: JobStatus?) {
            let (continuation, needsRead) = state.withLock { state -> (CheckedContinuation<Bool, Never>?, Bool) in
                state.needsRead = state.needsRead || status.map(\.isFinal) ?? true
                let continuation = state.continuation
                let needsRead = state.needsRead
                if continuation != nil { state.needsRead = false }
                state.pending = continuation == nil
                state.continuation = nil
                return (continuation, needsRead)
            }
            continuation?.resume(returning: needsRead)
        }

        /// Returns when woken (or woken before it was called), or after `seconds`:
        /// false only when every wake named a status that is not final, so the
        /// job has not ended and need not be read.
        @discardableResult
        func wait(seconds: Double) async -> Bool {
            await withCheckedContinuation { continuation in
                let already = state.withLock { state -> Bool? in
                    if state.pending {
                        state.pending = false
                        defer { state.needsRead = false }
                        return state.needsRead
                    }
                    state.continuation = continuation
                    return nil
                }
                if let already {
                    continuation.resume(returning: already)
                    return
                }
                Task { [weak self] in
                    try? await Task.sleep(for: .seconds(seconds))
                    guard let self else { return }
                    let timedOut = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                        defer { state.continuation = nil }
                        return state.continuation
                    }
                    timedOut?.resume(returning: true)
                }
            }
        }
    }

    private let waiters = Mutex<[String: [ObjectIdentifier: Waiter]]>([:])
    /// Settled job reads and media records; a NOTIFY naming one drops its entry.
    let settledJobs = ReadCache<ConditionalGET.Encoded>()
    let media = ReadCache<MediaRecord>()

    public init() {}

    /// Subscribed under this name, a waiter is woken by every NOTIFY about the
    /// tenant's jobs (its event stream), and by those that name no tenant.
    static func everyJob(of tenant: String) -> String { tenantPrefix + tenant }
    static let tenantPrefix = "tenant "

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

    /// Called for each NOTIFY on the events channel: the job's id, then its
    /// status and tenant (`job_… succeeded acme`) when the change came from the
    /// jobs trigger (migration 0011).
    public func notify(_ payload: String) {
        let words = payload.split(separator: " ", maxSplits: 2)
        guard let first = words.first else { return }
        let jobID = String(first)
        let status = words.count > 1 ? JobStatus(rawValue: String(words[1])) : nil
        let tenant = words.count > 2 ? String(words[2]) : nil
        settledJobs.remove(id: jobID)
        media.remove(id: jobID)  // a media record's deletion NOTIFYs its id the same way
        let woken = waiters.withLock { all -> [Waiter] in
            var woken = Array((all[jobID] ?? [:]).values)
            if let tenant {
                woken += (all[Self.everyJob(of: tenant)] ?? [:]).values
            } else {
                for (subject, streams) in all where subject.hasPrefix(Self.tenantPrefix) { woken += streams.values }
            }
            return woken
        }
        for waiter in woken { waiter.wake(status: status) }
    }
}

extension EventHub.Waiter {
    /// Waits as `wait` does, but a graceful shutdown (SIGTERM) wakes it at once, and then
    /// it returns true. Event streams end on it, so they do not hold a stopping server open
    /// until a keep-alive finally finds the client gone.
    func waitUnlessShuttingDown(seconds: Double) async -> Bool {
        await withGracefulShutdownHandler {
            _ = await wait(seconds: seconds)
        } onGracefulShutdown: {
            self.wake(status: nil)
        }
        return Task.isShuttingDownGracefully
    }
}
