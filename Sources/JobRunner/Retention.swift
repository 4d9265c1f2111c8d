import JobStore
import Storage

/// One pass of retention: finished jobs past `jobRetentionSeconds` (their rows,
/// events and files) and uploads past `uploadRetentionSeconds` that no queued
/// or running job reads. Rows go first, then their files.
public struct Retention: Sendable {
    let store: JobStore
    let blobs: any BlobStore
    let configuration: WorkerConfiguration

    public init(store: JobStore, blobs: any BlobStore, configuration: WorkerConfiguration) {
        self.store = store
        self.blobs = blobs
        self.configuration = configuration
    }

    /// Returns how many jobs and uploads were deleted.
    public func pruneOnce() async throws -> (jobs: Int, uploads: Int) {
        var jobs = 0, uploads = 0
        if let age = configuration.jobRetentionSeconds {
            while true {
                let ids = try await store.pruneFinishedJobs(olderThan: age)
                for id in ids { try await blobs.deleteAll(prefix: JobFiles.jobPrefix(jobID: id)) }
                jobs += ids.count
                if ids.count < 500 { break }
            }
        }
        if let age = configuration.uploadRetentionSeconds {
            while true {
                let keys = try await store.pruneUploads(olderThan: age)
                for key in keys { try await blobs.deleteAll(prefix: key) }
                uploads += keys.count
                if keys.count < 500 { break }
            }
        }
        // Resumable uploads past their expiry: an unfinished one's chunks go too.
        while true {
            let (count, chunks) = try await store.pruneExpiredTusUploads()
            for key in chunks { try await blobs.delete(key: key) }
            if count < 500 { break }
        }
        return (jobs, uploads)
    }
}
