import Foundation
import HTTPTypes
import HummingbirdTesting
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// `POST /v1/jobs/batch`: many jobs in one request, each with its own idempotency key.
@Suite(.ownThreads) struct BatchSubmissionTests {
    func submitBatch(_ h: Harness, _ jobs: [JSONValue]) async throws -> TestResponse {
        try await h.request(.post, "/v1/jobs/batch", headers: [.contentType: "application/json"],
                            body: ByteBuffer(data: JSONValue.object(["jobs": .array(jobs)]).encoded()))
    }

    @Test func aBatchQueuesEveryJobInItsOrderAndEachRuns() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload("gradient.webp")["id"])
            let widths = [8, 13, 21, 34, 55]
            let jobs: [JSONValue] = widths.map { ["input": media, "reuse": false, "operations": [["op": "thumbnail", "width": .number(Double($0))]]] }
                + [["input": media, "operations": [["op": "metadata"]]]]
            let response = try await submitBatch(h, jobs)
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let answered = try #require(try h.json(response)["jobs"]?.arrayValue)
            let ids = answered.compactMap { $0["id"]?.stringValue }
            #expect(ids.count == 6 && Set(ids).count == 6)
            #expect(answered.allSatisfy { $0["status"] == "queued" || $0["status"] == "running" || $0["status"] == "succeeded" })
            for (index, width) in widths.enumerated() {
                let job = try await h.waitForJob(ids[index])
                #expect(job["status"] == "succeeded", "\(job)")
                let url = try #require(job["outputs"]?["default"]?["files"]?.arrayValue?.first?["url"]?.stringValue)
                let decoded = try Harness.decodeImage(try await h.fetch(url: url).body)
                #expect(decoded.width == width, "job \(index): \(decoded.width) px wide, asked \(width)")
            }
            #expect(try await h.waitForJob(ids[5])["status"] == "succeeded")
            // Queued in the batch's order (the list is newest first), each with its own audit entry.
            let listed = try #require(try h.json(try await h.request(.get, "/v1/jobs?limit=10"))["data"]?.arrayValue).compactMap { $0["id"]?.stringValue }
            #expect(listed == ids.reversed())
            let audit = try #require(try h.json(try await h.request(.get, "/v1/audit?action=job.submit&limit=50"))["data"]?.arrayValue)
            #expect(Set(audit.compactMap { $0["object"]?.stringValue }) == Set(ids))
        }
    }

    @Test func oneInvalidJobRefusesTheWholeBatchWithItsPointer() async throws {
        try await Harness.run(withWorkers: false) { h in
            let media = try #require(try await h.upload("alpha.png")["id"])
            let good: JSONValue = ["input": media, "operations": [["op": "thumbnail", "width": 10]]]
            let bad: JSONValue = ["input": media, "outputs": ["thumb": [["op": "thumbnail", "width": 10], ["op": "encode", "format": "tiff"]]]]
            let refused = try await submitBatch(h, [good, bad, good])
            #expect(refused.status == .unprocessableContent)
            #expect(try h.json(refused)["error"]?["pointer"] == "/jobs/1/outputs/thumb/1/format")

            let missing = try await submitBatch(h, [good, ["input": "med_000000000000000000000000", "operations": [["op": "metadata"]]]])
            #expect(try h.json(missing)["error"]?["pointer"] == "/jobs/1/input")

            var keyed = good
            keyed = .object((keyed.objectValue ?? [:]).merging(["idempotencyKey": "same"]) { $1 })
            let twice = try await submitBatch(h, [keyed, keyed])
            #expect(twice.status == .unprocessableContent)
            #expect(try h.json(twice)["error"]?["pointer"] == "/jobs/1/idempotencyKey")

            #expect(try await submitBatch(h, []).status == .unprocessableContent)
            let tooMany = try await submitBatch(h, Array(repeating: good, count: 1001))
            #expect(tooMany.status == .unprocessableContent)
            #expect(try h.json(tooMany)["error"]?["pointer"] == "/jobs")

            // Nothing of any refused batch was queued.
            #expect(try h.json(try await h.request(.get, "/v1/jobs"))["data"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test func idempotencyKeysAnswerEachJobOfABatchOnce() async throws {
        try await Harness.run(withWorkers: false) { h in
            let media = try #require(try await h.upload("alpha.png")["id"])
            func job(_ width: Int, key: String) -> JSONValue {
                ["input": media, "operations": [["op": "thumbnail", "width": .number(Double(width))]], "idempotencyKey": .string(key)]
            }
            let first = try await submitBatch(h, [job(10, key: "a"), job(11, key: "b")])
            #expect(first.status == .created)
            let firstIDs = try #require(try h.json(first)["jobs"]?.arrayValue).compactMap { $0["id"]?.stringValue }
            #expect(firstIDs.count == 2)

            // The same batch again: the same jobs, nothing new.
            let again = try await submitBatch(h, [job(10, key: "a"), job(11, key: "b")])
            #expect(again.status == .ok)
            #expect(try #require(try h.json(again)["jobs"]?.arrayValue).compactMap { $0["id"]?.stringValue } == firstIDs)

            // A used key with another body is that job's error; the rest of the batch is queued.
            let mixed = try #require(try h.json(try await submitBatch(h, [job(12, key: "a"), job(13, key: "c")]))["jobs"]?.arrayValue)
            #expect(mixed[0]["error"]?["code"] == "idempotency_conflict")
            #expect(mixed[0]["error"]?["pointer"] == "/jobs/0/idempotencyKey")
            #expect(mixed[1]["id"]?.stringValue.map { !firstIDs.contains($0) } == true)

            // One namespace with single submissions: the same key and body is the same job.
            let single = try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": 11]]],
                                            headers: [HTTPField.Name("Idempotency-Key")!: "b"])
            #expect(try h.json(single)["id"]?.stringValue == firstIDs[1])

            let listed = try #require(try h.json(try await h.request(.get, "/v1/jobs"))["data"]?.arrayValue)
            #expect(listed.count == 3)
        }
    }
}
