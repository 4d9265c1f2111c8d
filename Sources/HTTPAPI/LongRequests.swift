import Synchronization

/// Requests that stay open by design (event streams, `wait` long polls) are
/// not counted by request admission, so a crowd of watchers cannot stall the
/// API; instead each API key may hold at most `limit` of them at once. Past
/// it, a long poll answers at once (as with `wait=0`; a submission's
/// `Prefer: wait` is then not applied) and an event stream is refused with 429.
public final class LongRequests: Sendable {
    public let limit: Int
    private let open = Mutex<[String: Int]>([:])
    /// Per key, what makes each of its event streams write at once (see `enterNudging`).
    private let nudges = Mutex<[String: [ObjectIdentifier: @Sendable () -> Void]]>([:])

    public init(limit: Int) { self.limit = max(1, limit) }

    /// A place held until the ticket is gone (released however the request ends).
    final class Ticket: Sendable {
        let owner: LongRequests
        let key: String
        init(owner: LongRequests, key: String) {
            self.owner = owner
            self.key = key
        }
        deinit {
            owner.nudges.withLock { $0[key]?[ObjectIdentifier(self)] = nil }
            owner.leave(key)
        }

        /// An event stream says how to make it write now (a keep-alive), which is how it learns its client left.
        func onNudge(_ nudge: @escaping @Sendable () -> Void) {
            owner.nudges.withLock { $0[key, default: [:]][ObjectIdentifier(self)] = nudge }
        }
    }

    /// A place for `key`; at the cap, first makes the key's event streams write, so those whose
    /// clients have gone end and give their places back (a stream learns its client left only
    /// when it writes), then tries once more.
    func enterNudging(_ key: String) async -> Ticket? {
        if let ticket = enter(key) { return ticket }
        let streams = nudges.withLock { Array(($0[key] ?? [:]).values) }
        guard !streams.isEmpty else { return nil }
        for nudge in streams { nudge() }
        for _ in 0..<20 {
            try? await Task.sleep(for: .milliseconds(50))
            if let ticket = enter(key) { return ticket }
        }
        return nil
    }

    /// A place for `key`, or nil when it holds `limit` already.
    func enter(_ key: String) -> Ticket? {
        let admitted = open.withLock { open -> Bool in
            guard open[key, default: 0] < limit else { return false }
            open[key, default: 0] += 1
            return true
        }
        return admitted ? Ticket(owner: self, key: key) : nil
    }

    func openCount(_ key: String) -> Int { open.withLock { $0[key] ?? 0 } }

    private func leave(_ key: String) {
        open.withLock { open in
            open[key, default: 1] -= 1
            if open[key] == 0 { open[key] = nil }
        }
    }
}
