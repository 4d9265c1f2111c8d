import JobStore
import Storage

/// Where an attempt's files are stored, and how the ones no record points at
/// are collected. Each attempt writes under its own lease token
/// (`jobs/{id}/{token}/{output}/{file}`), and only a fenced write records a key
/// in the job, so the job points at exactly the files of the attempt that won;
/// what losing, failed or canceled attempts wrote is garbage to collect.
enum JobFiles {
    /// `revision` > 0 for a file published again under the same path (a growing
    /// playlist): a stored object is never replaced, the record moves to the new
    /// one, so every listed file is always exactly as listed.
    static func key(jobID: String, leaseToken: Int64, path: String, revision: Int = 0) -> String {
        "jobs/\(jobID)/\(leaseToken)/\(path)" + (revision > 0 ? "~\(revision)" : "")
    }

    static func attemptPrefix(jobID: String, leaseToken: Int64) -> String { "jobs/\(jobID)/\(leaseToken)/" }

    static func jobPrefix(jobID: String) -> String { "jobs/\(jobID)/" }

    /// Deletes the files under `prefix` that the job's record does not point at
    /// (`referenced`, when the caller just wrote it; else read). Returns how many.
    @discardableResult
    static func collect(jobID: String, tenant: String, under prefix: String, store: JobStore, blobs: any BlobStore,
                        referenced known: Set<String>? = nil) async throws -> Int {
        let referenced: Set<String>
        if let known {
            referenced = known
        } else {
            guard let job = try await store.job(id: jobID, tenant: tenant) else { return 0 }
            referenced = Set(job.outputs.values.flatMap(\.files).map { $0.storageKey(jobID: jobID) })
        }
        var deleted = 0
        for key in try await blobs.list(prefix: prefix) where !referenced.contains(key) {
            try await blobs.delete(key: key)
            deleted += 1
        }
        return deleted
    }
}
