import Synchronization

/// Requests that stay open by design (event streams, `wait` long polls) are
/// not counted by request admission, so a crowd of watchers cannot stall the
/// API; instead each API key may hold at most `limit` of them at once. Past
/// it, a long poll answers at once (as with `wait=0`; a submission's
/// `Prefer: wait` is then not applied) and an event stream is refused with 429.
public final class LongRequests: Sendable {
    public let limit: Int
    private let open = Mutex<[String: Int]>([:])

    public init(limit: Int) { self.limit = max(1, limit) }

    /// A place held until the ticket is gone (released however the request ends).
    final class Ticket: Sendable {
        let owner: LongRequests
        let key: String
        init(owner: LongRequests, key: String) {
            self.owner = owner
            self.key = key
        }
        deinit { owner.leave(key) }
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
