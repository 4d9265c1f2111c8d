import Foundation
import Synchronization

/// Reads that can no longer change, kept in memory for a while: a settled
/// job's encoded answer (ended, no webhook message pending; a client polling a
/// finished job is answered without PostgreSQL) and media records (immutable
/// until deleted; every submission reads its input's). Bounded in entries; an
/// entry lives `lifetime` seconds at most, and a NOTIFY naming its id (a job's
/// change, a deletion by a client or by retention) drops it at once through
/// `EventHub`. Each API process keeps its own; what they hold is the same
/// everywhere.
final class ReadCache<Value: Sendable>: Sendable {
    private struct Entry {
        let tenant: String
        let value: Value
        let expires: ContinuousClock.Instant
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Insertion order, for evicting the oldest when full.
        var order: [String] = []
        var head = 0
        /// Counts removals: a value read before one may be what was removed.
        var removals: UInt64 = 0
        /// The count at each id's latest removal; when it grows past capacity it is
        /// cleared and `forgotten` remembers up to where (reads older than that are not kept).
        var removedAt: [String: UInt64] = [:]
        var forgotten: UInt64 = 0
    }

    let capacity: Int
    let lifetime: Duration
    private let state = Mutex(State())

    init(capacity: Int = 10_000, lifetime: Duration = .seconds(60)) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    func get(tenant: String, id: String) -> Value? {
        state.withLock { state in
            guard let entry = state.entries[id], entry.tenant == tenant else { return nil }
            if entry.expires < .now {
                state.entries[id] = nil
                return nil
            }
            return entry.value
        }
    }

    /// Forgets an entry (it changed or was deleted).
    func remove(id: String) {
        state.withLock { state in
            state.entries.removeValue(forKey: id)
            state.removals += 1
            if state.removedAt.count >= capacity {
                state.removedAt = [:]
                state.forgotten = state.removals
            }
            state.removedAt[id] = state.removals
        }
    }

    /// Taken before reading what `put` will keep: a removal of that id between the
    /// read and the put (its NOTIFY arriving while the row was read) keeps the put
    /// out, so a deleted or changed record is not cached after the change was heard.
    func mark() -> UInt64 { state.withLock { $0.removals } }

    func put(tenant: String, id: String, _ value: Value, readAt mark: UInt64) {
        let key = id
        state.withLock { state in
            guard mark >= state.forgotten, (state.removedAt[key] ?? 0) <= mark else { return }
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
            state.entries[key] = Entry(tenant: tenant, value: value, expires: .now + lifetime)
        }
    }
}
