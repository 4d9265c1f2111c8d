import Foundation
import Synchronization

/// Encoded reads of jobs that can no longer change: ended, with no webhook
/// message still pending. A client polling a finished job (the common end of
/// a poll loop) is answered from memory, without PostgreSQL. Bounded in
/// entries; an entry lives `lifetime` seconds, so a job deleted by retention
/// disappears from reads within that time at the latest; sooner, since
/// retention NOTIFYs each deleted job's id and `EventHub` drops it here. Each
/// API process keeps its own; settled jobs are the same everywhere.
final class SettledJobCache: Sendable {
    private struct Entry {
        let tenant: String
        let encoded: ConditionalGET.Encoded
        let expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Insertion order, for evicting the oldest when full.
        var order: [String] = []
        var head = 0
    }

    let capacity: Int
    let lifetime: Duration
    private let state = Mutex(State())

    init(capacity: Int = 10_000, lifetime: Duration = .seconds(60)) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    func get(tenant: String, id: String) -> ConditionalGET.Encoded? {
        state.withLock { state in
            guard let entry = state.entries[id], entry.tenant == tenant else { return nil }
            if entry.expires < .now {
                state.entries[id] = nil
                return nil
            }
            return entry.encoded
        }
    }

    /// Forgets a job (it changed or was deleted).
    func remove(id: String) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    func put(tenant: String, id: String, _ encoded: ConditionalGET.Encoded) {
        let key = id
        state.withLock { state in
            if state.entries[key] == nil {
                state.order.append(key)
                // Evict the oldest beyond capacity (entries already expired or removed are skipped over).
                while state.entries.count >= capacity, state.head < state.order.count {
                    state.entries[state.order[state.head]] = nil
                    state.head += 1
                }
                if state.head > capacity {
                    state.order.removeFirst(state.head)
                    state.head = 0
                }
            }
            state.entries[key] = Entry(tenant: tenant, encoded: encoded, expires: .now + lifetime)
        }
    }
}
