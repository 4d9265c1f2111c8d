import Foundation
import JobStore
import Logging
import PipelineEngine
import Storage

/// Reuse of identical work: a job whose input bytes and operations match an
/// earlier succeeded job of its tenant (the claim names it) takes copies of that
/// job's files instead of decoding and encoding again. Copies, not shared keys:
/// each job keeps its own files, so deleting or expiring one never takes another's.
struct WorkReuse: Sendable {
    let store: JobStore
    let blobs: any BlobStore
    let logger: Logger

    enum Outcome {
        /// The job ended with the copies; the keys its record points at.
        case reused(Set<String>)
        /// The earlier job or one of its files is gone (retention, a deletion): run the job.
        case unavailable
        /// The lease was lost meanwhile: write nothing more.
        case leaseLost
    }

    func take(from earlierID: String, for claim: ClaimedJob) async throws -> Outcome {
        guard let earlier = try await store.job(id: earlierID, tenant: claim.tenant), earlier.status == .succeeded,
              Set(earlier.outputs.keys) == Set(claim.outputs.keys) else { return .unavailable }
        var outputs: [String: OutputState] = [:]
        var keys: Set<String> = []
        let now = Date()
        for (name, state) in earlier.outputs {
            var copied = state
            copied.files = []
            for file in state.files {
                let key = JobFiles.key(jobID: claim.id, leaseToken: claim.leaseToken, path: file.path)
                do {
                    try await blobs.copy(from: file.storageKey(jobID: earlier.id), to: key)
                } catch BlobStoreError.notFound {
                    logger.info("an earlier job's file is gone; running instead", metadata: ["reusable": .string(earlier.id), "path": .string(file.path)])
                    return .unavailable
                }
                var renamed = file
                renamed.key = key
                copied.files.append(renamed)
                keys.insert(key)
            }
            copied.playableAt = state.playableAt.map { _ in now }
            outputs[name] = copied
        }
        guard try await store.finishReused(jobID: claim.id, token: claim.leaseToken, outputs: outputs, from: earlier.id) else { return .leaseLost }
        return .reused(keys)
    }
}
