import Foundation
import JobRunner
import JobStore
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// Finished jobs and old uploads go after their retention, files and all; an
/// upload a queued job still reads stays.
@Suite(.ownThreads) struct RetentionTests {
    @Test func finishedJobsAndOldUploadsArePrunedWithTheirFiles() async throws {
        var configuration = try TestEnvironment.configuration()
        // The worker's own pass runs once at start and then not again within the test, which runs the
        // passes itself: a test that raced a short retention against its own checks failed on a loaded
        // machine when the job was pruned before the test looked at it.
        configuration.worker.jobRetentionSeconds = 1
        configuration.worker.uploadRetentionSeconds = 1
        configuration.worker.pruneSeconds = 3600
        try await Harness.run(configuration: configuration) { [configuration] h in
            let job = try await h.runJob(on: "alpha.png", [["op": "thumbnail", "width": 12]])
            #expect(job["status"] == "succeeded", "\(job)")
            let id = try #require(job["id"]?.stringValue)
            let media = try #require(job["input"]?.stringValue)
            #expect(try await h.request(.get, "/v1/jobs/\(id)").status == .ok, "kept until a pass finds it past its retention")
            #expect(try await !h.kiln.blobs.list(prefix: "jobs/\(id)/").isEmpty)
            #expect(try await !h.kiln.store.events(jobID: id, after: 0).isEmpty)
            try await Task.sleep(for: .seconds(1.2))
            let pruned = try await Retention(store: h.kiln.store, blobs: h.kiln.blobs, configuration: configuration.worker).pruneOnce()
            #expect(pruned.jobs >= 1 && pruned.uploads >= 1, "\(pruned)")
            #expect(try await h.request(.get, "/v1/jobs/\(id)").status == .notFound)
            #expect(try await h.kiln.blobs.list(prefix: "jobs/\(id)/").isEmpty, "its files went with it")
            #expect(try await h.kiln.store.events(jobID: id, after: 0).isEmpty, "and its events")
            #expect(try await h.request(.get, "/v1/media/\(media)").status == .notFound)
            #expect(try await h.kiln.blobs.list(prefix: "media/tenant-a/").isEmpty)
            // Each retention deletion is in the tenant's audit log.
            let audit = try h.json(try await h.request(.get, "/v1/audit"))["data"]?.arrayValue ?? []
            #expect(audit.contains { $0["action"] == "job.expire" && $0["object"]?.stringValue == id }, "\(audit)")
            #expect(audit.contains { $0["action"] == "media.expire" && $0["object"]?.stringValue == media }, "\(audit)")
            #expect(try await h.kiln.store.pendingBlobDeletions().isEmpty, "every recorded deletion was carried out")
        }
    }

    /// A media deletion is recorded with its audit entry before any byte is removed; if the removal
    /// does not happen then (the store failed, the process died), the next retention pass finishes it.
    @Test func aRecordedDeletionIsFinishedLater() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.worker.pruneSeconds = 3600
        try await Harness.run(configuration: configuration, withWorkers: false) { [configuration] h in
            let media = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            let record = try #require(try await h.kiln.store.media(id: media, tenant: "tenant-a"))
            // Recorded, but its bytes not removed: as when the store failed right after.
            let audit = AuditEntry(tenant: "tenant-a", keyID: nil, action: "media.delete", object: media, client: nil)
            let deleted = try #require(try await h.kiln.store.deleteMedia(id: media, tenant: "tenant-a", audit: audit))
            #expect(deleted.deletion.prefix == record.storageKey)
            #expect(try await h.request(.get, "/v1/media/\(media)").status == .notFound)
            #expect(try await h.kiln.blobs.size(key: record.storageKey) != nil, "the bytes are still there")
            #expect(try await h.kiln.store.pendingBlobDeletions().map(\.prefix) == [record.storageKey])
            let logged = try h.json(try await h.request(.get, "/v1/audit?action=media.delete"))["data"]?.arrayValue ?? []
            #expect(logged.contains { $0["object"]?.stringValue == media }, "the audit entry came with the deletion: \(logged)")

            _ = try await Retention(store: h.kiln.store, blobs: h.kiln.blobs, configuration: configuration.worker).pruneOnce()
            #expect(try await h.kiln.blobs.size(key: record.storageKey) == nil, "the retry removed the bytes")
            #expect(try await h.kiln.store.pendingBlobDeletions().isEmpty)

            // Through the API: 204, bytes gone, nothing left pending.
            let other = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            let otherKey = try #require(try await h.kiln.store.media(id: other, tenant: "tenant-a")).storageKey
            #expect(try await h.request(.delete, "/v1/media/\(other)").status == .noContent)
            #expect(try await h.kiln.blobs.size(key: otherKey) == nil)
            #expect(try await h.kiln.store.pendingBlobDeletions().isEmpty)
        }
    }

    @Test func anUploadAQueuedJobReadsIsKept() async throws {
        try await withMigratedKiln { kiln in
            let media = sampleMedia()
            try await kiln.store.insertMedia(media)
            _ = try await kiln.store.insertJob(NewJob(tenant: "tenant-a", input: media, plan: try samplePlan(), webhook: nil, metadata: nil,
                                                      idempotencyKey: nil, requestHash: nil))
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await kiln.store.pruneUploads(olderThan: 0).isEmpty)
            #expect(try await kiln.store.pruneFinishedJobs(olderThan: 0).isEmpty, "a queued job is not finished")
        }
    }
}
