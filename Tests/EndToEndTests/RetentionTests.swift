import Foundation
import JobStore
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// Finished jobs and old uploads go after their retention, files and all; an
/// upload a queued job still reads stays.
@Suite struct RetentionTests {
    @Test func finishedJobsAndOldUploadsArePrunedWithTheirFiles() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.worker.jobRetentionSeconds = 5  // long enough for a loaded run to check the files first
        configuration.worker.uploadRetentionSeconds = 2
        configuration.worker.pruneSeconds = 0.5
        try await Harness.run(configuration: configuration) { h in
            let job = try await h.runJob(on: "alpha.png", [["op": "thumbnail", "width": 12]])
            #expect(job["status"] == "succeeded")
            let id = try #require(job["id"]?.stringValue)
            let media = try #require(job["input"]?.stringValue)
            #expect(try await h.request(.get, "/v1/jobs/\(id)").status == .ok, "kept until its retention ends")
            #expect(try await !h.kiln.blobs.list(prefix: "jobs/\(id)/").isEmpty)
            let deadline = ContinuousClock.now + .seconds(25)
            while try await h.request(.get, "/v1/jobs/\(id)").status == .ok && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await h.request(.get, "/v1/jobs/\(id)").status == .notFound)
            #expect(try await h.kiln.blobs.list(prefix: "jobs/\(id)/").isEmpty, "its files went with it")
            while try await h.request(.get, "/v1/media/\(media)").status == .ok && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await h.request(.get, "/v1/media/\(media)").status == .notFound)
            #expect(try await h.kiln.blobs.list(prefix: "media/tenant-a/").isEmpty)
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
