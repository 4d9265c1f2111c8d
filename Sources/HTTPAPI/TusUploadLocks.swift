/// One request at a time per tus upload in this process, in arrival order. A
/// PATCH whose connection dropped still stores what arrived and moves the
/// offset; a HEAD answered before it finished reported the old offset, and the
/// client's next PATCH then met 409 (seen in a loaded test run). tusd locks its
/// uploads the same way. Across API processes the conditional offset update
/// in PostgreSQL still lets only one PATCH win.
actor TusUploadLocks {
    private var held: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ id: String, _ body: () async throws -> T) async throws -> T {
        await acquire(id)
        do {
            let result = try await body()
            release(id)
            return result
        } catch {
            release(id)
            throw error
        }
    }

    private func acquire(_ id: String) async {
        if held.insert(id).inserted { return }
        await withCheckedContinuation { waiting[id, default: []].append($0) }
    }

    /// Hands the lock to the next waiter, if any (it stays held), else frees it.
    private func release(_ id: String) {
        guard var queue = waiting[id], !queue.isEmpty else {
            held.remove(id)
            return
        }
        let next = queue.removeFirst()
        waiting[id] = queue.isEmpty ? nil : queue
        next.resume()
    }
}
