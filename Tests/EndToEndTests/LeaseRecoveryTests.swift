import Foundation
import JobStore
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// A worker that claims a job and then stops heartbeating (crashed, paused,
/// partitioned) loses nothing: the reaper requeues the job after its lease and
/// a healthy worker finishes it.
@Suite(.ownThreads) struct LeaseRecoveryTests {
    @Test func jobOfADeadWorkerRunsAgainAndSucceeds() async throws {
        let configuration = try TestEnvironment.configuration()
        // Set the scene with no live worker: a job, its input, and a claim by a worker that then "dies".
        let (jobID, deadToken) = try await withMigratedKiln(configuration: configuration) { kiln in
            var media = sampleMedia()
            media.storageKey = "media/tenant-a/\(media.id)"
            let copy = kiln.blobs.stagingDirectory + "/fixture-" + UUID().uuidString
            try FileManager.default.copyItem(atPath: Fixture.path("gradient.webp"), toPath: copy)
            try await kiln.blobs.put(key: media.storageKey, file: copy)
            try await kiln.store.insertMedia(media)
            guard case let .created(job) = try await kiln.store.insertJob(NewJob(
                tenant: "tenant-a", input: media, plan: try samplePlan(), webhook: nil, metadata: nil, idempotencyKey: nil, requestHash: nil)) else {
                throw HarnessError("job not created")
            }
            let claim = try #require(try await kiln.store.claim(owner: "doomed-worker", leaseSeconds: 1.5))
            return (job.id, claim.leaseToken)
        }
        // Now a healthy process starts; its reaper finds the expired lease.
        try await Harness.run(configuration: configuration) { h in
            let job = try await h.waitForJob(jobID, timeout: .seconds(30))
            #expect(job["status"] == "succeeded", "\(job)")
            // Attempt 2: the dead worker's claim was attempt 1 and never finished.
            #expect(job["attempt"] == 2)
            let file = try #require(job["outputs"]?["thumb"]?["files"]?.arrayValue?.first)
            let decoded = try Harness.decodeImage(try await h.fetch(url: try #require(file["url"]?.stringValue)).body)
            #expect(decoded.width == 32)
            // The dead worker's token no longer writes anything.
            #expect(try await !h.kiln.store.finish(jobID: jobID, token: deadToken, status: .failed, error: nil))
        }
    }

    /// A job whose attempts keep dying ends `worker_crashed` by the reaper, and
    /// what the dead attempts wrote is collected then, not left for retention.
    @Test func filesOfAJobTheReaperEndsAreCollected() async throws {
        let configuration = try TestEnvironment.configuration()
        let jobID = try await withMigratedKiln(configuration: configuration) { kiln in
            var media = sampleMedia()
            media.storageKey = "media/tenant-a/\(media.id)"
            try await kiln.store.insertMedia(media)
            guard case let .created(job) = try await kiln.store.insertJob(NewJob(
                tenant: "tenant-a", input: media, plan: try samplePlan(), webhook: nil, metadata: nil, idempotencyKey: nil, requestHash: nil)) else {
                throw HarnessError("job not created")
            }
            // Three attempts each write a file and die; the first two are reaped here, the third by the worker below.
            for crash in 1...3 {
                let claim = try #require(try await kiln.store.claim(owner: "doomed-\(crash)", leaseSeconds: 0.2))
                let file = kiln.blobs.stagingDirectory + "/partial-" + UUID().uuidString
                try Data("half a thumbnail".utf8).write(to: URL(fileURLWithPath: file))
                try await kiln.blobs.put(key: "jobs/\(job.id)/\(claim.leaseToken)/thumb/thumb.webp", file: file)
                try await Task.sleep(for: .milliseconds(300))
                if crash < 3 { #expect(try await kiln.store.reapExpiredLeases().count == 1) }
            }
            #expect(try await kiln.blobs.list(prefix: "jobs/\(job.id)/").count == 3)
            return job.id
        }
        try await Harness.run(configuration: configuration) { h in
            let job = try await h.waitForJob(jobID, timeout: .seconds(30))
            #expect(job["status"] == "failed" && job["error"]?["code"] == "worker_crashed", "\(job)")
            let deadline = ContinuousClock.now + .seconds(10)
            var left = try await h.kiln.blobs.list(prefix: "jobs/\(jobID)/")
            while !left.isEmpty && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                left = try await h.kiln.blobs.list(prefix: "jobs/\(jobID)/")
            }
            #expect(left.isEmpty, "files of the dead attempts: \(left)")
        }
    }
}
