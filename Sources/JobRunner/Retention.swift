import JobStore
import Storage

/// One pass of retention: finished jobs past `jobRetentionSeconds` (their rows,
/// events and files), uploads past `uploadRetentionSeconds` that no queued
/// or running job reads, and media past their own expiry with every job made
/// from them. Rows go first, then their files.
public struct Retention: Sendable {
    let store: JobStore
    let blobs: any BlobStore
    let configuration: WorkerConfiguration

    public init(store: JobStore, blobs: any BlobStore, configuration: WorkerConfiguration) {
        self.store = store
        self.blobs = blobs
        self.configuration = configuration
    }

    /// Returns how many jobs and uploads were deleted (by retention periods and expiry).
    public func pruneOnce() async throws -> (jobs: Int, uploads: Int) {
        var jobs = 0, uploads = 0
        // Expiry comes first: its jobs leave tombstones, where retention's would not.
        while true {
            let deletions = try await store.pruneExpiredMedia()
            await Self.carryOut(deletions, store: store, blobs: blobs)
            let jobPrefixes = deletions.filter { $0.prefix.hasPrefix("jobs/") }.count
            jobs += jobPrefixes
            uploads += deletions.count - jobPrefixes
            if deletions.count < 200 { break }
        }
        try await store.forgetTombstones(olderThan: configuration.tombstoneSeconds)
        if let age = configuration.jobRetentionSeconds {
            while true {
                let deletions = try await store.pruneFinishedJobs(olderThan: age)
                await Self.carryOut(deletions, store: store, blobs: blobs)
                jobs += deletions.count
                if deletions.count < 500 { break }
            }
        }
        if let age = configuration.uploadRetentionSeconds {
            while true {
                let deletions = try await store.pruneUploads(olderThan: age)
                await Self.carryOut(deletions, store: store, blobs: blobs)
                uploads += deletions.count
                if deletions.count < 500 { break }
            }
        }
        // Deletions whose first try failed (the store was down) or whose process died.
        while true {
            let due = try await store.claimDueBlobDeletions()
            await Self.carryOut(due, store: store, blobs: blobs)
            if due.count < 100 { break }
        }
        // Resumable uploads past their expiry: an unfinished one's chunks go too.
        while true {
            let (count, chunks) = try await store.pruneExpiredTusUploads()
            for key in chunks { try await blobs.delete(key: key) }
            if count < 500 { break }
        }
        return (jobs, uploads)
    }

    /// Deletes each recorded prefix from the store and forgets the ones done; a
    /// failure leaves its record for the next pass (`claimDueBlobDeletions`).
    public static func carryOut(_ deletions: [BlobDeletion], store: JobStore, blobs: any BlobStore) async {
        for deletion in deletions {
            do {
                try await blobs.deleteAll(prefix: deletion.prefix)
                try await store.finishBlobDeletion(deletion.id)
            } catch {
                continue
            }
        }
    }
}
