import Foundation
import JobRunner
import JobStore
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// Media with a time to live (`?expiresIn=` on upload, a story that vanishes):
/// past it the media reads as gone, no job may be made from it, and retention
/// removes it with every job made from it and their files; reads answer 410
/// and `GET /v1/usage` counts what went. Media without one is untouched.
@Suite(.ownThreads) struct MediaExpiryTests {
    @Test func aStoryGoesWithEverythingMadeFromIt() async throws {
        var configuration = try TestEnvironment.configuration()
        // The test runs the retention passes itself.
        configuration.worker.pruneSeconds = 3600
        try await Harness.run(configuration: configuration) { [configuration] h in
            let uploaded = try await h.request(.post, "/v1/uploads?expiresIn=4", headers: [.contentType: "application/octet-stream"],
                                               body: ByteBuffer(data: try Fixture.data("corpus/jpeg-1080-o6.jpg")))
            #expect(uploaded.status == .created, "\(String(buffer: uploaded.body))")
            let story = try h.json(uploaded)
            let media = try #require(story["id"]?.stringValue)
            let withFraction = ISO8601DateFormatter()
            withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let stamp = try #require(story["expiresAt"]?.stringValue, "\(story)")
            let expiresAt = try #require(withFraction.date(from: stamp) ?? ISO8601DateFormatter().date(from: stamp), "\(stamp)")
            #expect(abs(expiresAt.timeIntervalSinceNow - 4) < 3, "expires about 4 s from now: \(expiresAt)")
            let kept = try #require(try await h.upload("alpha.png")["id"]?.stringValue)

            let operations: JSONValue = [["op": "thumbnail", "width": 320], ["op": "encode", "format": "webp"]]
            let job = try await h.waitForJob(try #require(try h.json(try await h.submit(["input": .string(media), "operations": operations]))["id"]?.stringValue))
            #expect(job["status"] == "succeeded", "\(job)")
            let jobID = try #require(job["id"]?.stringValue)
            let file = try #require(job["outputs"]?["default"]?["files"]?.arrayValue?.first)
            let fileURL = try #require(file["url"]?.stringValue)
            #expect(try await h.fetch(url: fileURL).status == .ok)
            let keptJob = try await h.waitForJob(try #require(try h.json(try await h.submit(["input": .string(kept), "operations": operations]))["id"]?.stringValue))
            #expect(keptJob["status"] == "succeeded")
            let record = try #require(try await h.kiln.store.media(id: media, tenant: "tenant-a"))

            while Date() < expiresAt.addingTimeInterval(0.2) { try await Task.sleep(for: .milliseconds(200)) }
            // Past its expiry, before any retention pass: gone to readers, refused as an input.
            let early = try await h.request(.get, "/v1/media/\(media)")
            let earlyCode = try h.json(early)["error"]?["code"]
            #expect(early.status == .gone && earlyCode == "expired", "\(String(buffer: early.body))")
            let refused = try await h.submit(["input": .string(media), "operations": operations])
            #expect(refused.status == .unprocessableContent)
            let refusal = try h.json(refused)["error"]
            #expect(refusal?["pointer"] == "/input" && refusal?["code"] == "input_expired", "\(String(buffer: refused.body))")

            let pruned = try await Retention(store: h.kiln.store, blobs: h.kiln.blobs, configuration: configuration.worker).pruneOnce()
            #expect(pruned.jobs == 1 && pruned.uploads == 1, "\(pruned)")
            for path in ["/v1/media/\(media)", "/v1/media/\(media)/content", "/v1/jobs/\(jobID)"] {
                let answer = try await h.request(.get, path)
                let code = try h.json(answer)["error"]?["code"]
                #expect(answer.status == .gone && code == "expired", "\(path): \(answer.status)")
            }
            #expect(try await h.fetch(url: fileURL).status == .gone, "its files answer 410 too")
            #expect(try await h.kiln.blobs.list(prefix: "jobs/\(jobID)/").isEmpty, "the job's files were deleted")
            #expect(try await h.kiln.blobs.size(key: record.storageKey) == nil, "the upload's bytes were deleted")
            #expect(try await h.kiln.store.pendingBlobDeletions().isEmpty)
            // What had no expiry is untouched.
            #expect(try await h.request(.get, "/v1/media/\(kept)").status == .ok)
            #expect(try await h.request(.get, "/v1/jobs/\(try #require(keptJob["id"]?.stringValue))").status == .ok)
            // Never heard of stays 404.
            #expect(try await h.request(.get, "/v1/media/med_00000000000000000000000000").status == .notFound)

            let usage = try h.json(try await h.request(.get, "/v1/usage"))
            let outputBytes = try #require(file["size"]?.intValue)
            #expect(usage["expired"]?["media"] == 1 && usage["expired"]?["jobs"] == 1, "\(usage)")
            #expect(usage["expired"]?["bytes"]?.intValue == record.size + outputBytes, "\(usage)")
            let audit = try h.json(try await h.request(.get, "/v1/audit"))["data"]?.arrayValue ?? []
            #expect(audit.contains { $0["action"] == "media.expire" && $0["object"]?.stringValue == media && $0["detail"]?["by"] == "ttl" })
            #expect(audit.contains { $0["action"] == "job.expire" && $0["object"]?.stringValue == jobID && $0["detail"]?["by"] == "ttl" })
        }
    }

    @Test func expiresInMustBeALifetime() async throws {
        try await Harness.run(configuration: try TestEnvironment.configuration(), withWorkers: false) { h in
            for bad in ["0", "-5", "soon", "400000000"] {
                let answer = try await h.request(.post, "/v1/uploads?expiresIn=\(bad)", headers: [.contentType: "application/octet-stream"],
                                                 body: ByteBuffer(data: try Fixture.data("alpha.png")))
                let code = try h.json(answer)["error"]?["code"]
                #expect(answer.status == .badRequest && code == "invalid_query", "\(bad): \(answer.status)")
            }
            let plain = try await h.upload("alpha.png")
            #expect(plain["expiresAt"] == .null, "no expiry unless asked: \(plain)")
        }
    }
}
