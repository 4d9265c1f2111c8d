import Foundation
import JobStore
import Synchronization

/// `kiln_jobs{status}` for `/metrics` without a count over every job per
/// scrape: queued and running are counted each time (their partial indexes
/// make that cheap), the ended states at most once per `endedSeconds`, so
/// frequent scrapes, or many scrapers, cost the database one such count a while.
final class CachedJobCounts: Sendable {
    static let endedSeconds: Double = 30
    private let ended = Mutex<(counts: [JobStatus: Int], at: ContinuousClock.Instant?)>(([:], nil))

    func counts(from store: JobStore) async throws -> [JobStatus: Int] {
        let (queued, running) = try await store.activeCounts()
        var counts: [JobStatus: Int]
        let cached = ended.withLock { state -> [JobStatus: Int]? in
            guard let at = state.at, ContinuousClock.now - at < .seconds(Self.endedSeconds) else { return nil }
            return state.counts
        }
        if let cached {
            counts = cached
        } else {
            counts = try await store.countsByStatus()
            ended.withLock { $0 = (counts, ContinuousClock.now) }
        }
        counts[.queued] = queued
        counts[.running] = running
        return counts
    }
}
