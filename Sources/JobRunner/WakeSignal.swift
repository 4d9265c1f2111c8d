/// Wakes idle worker loops when NOTIFY says jobs are claimable; each wait also
/// ends after a timeout, so a lost notification costs one poll interval at most,
/// and at once when the waiting task is cancelled.
actor WakeSignal {
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextID = 0

    func wait(seconds: Double) async {
        let id = nextID
        nextID += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Registration and this check run together on the actor, so a
                // cancel either is seen here or finds the waiter registered.
                if Task.isCancelled {
                    continuation.resume()
                    return
                }
                waiters[id] = continuation
                Task {
                    try? await Task.sleep(for: .seconds(seconds))
                    self.resume(id)
                }
            }
        } onCancel: {
            Task { await self.resume(id) }
        }
    }

    private func resume(_ id: Int) {
        waiters.removeValue(forKey: id)?.resume()
    }

    /// Wakes the longest-waiting idle loop, if any: one NOTIFY per submitted job,
    /// so one claim per process instead of one per idle slot (the others found
    /// nothing). A busy loop claims again when its job ends, so none is missed.
    func wakeOne() {
        guard let oldest = waiters.keys.min() else { return }
        resume(oldest)
    }

    func wakeAll() {
        let all = waiters.values
        waiters.removeAll()
        for waiter in all { waiter.resume() }
    }
}
