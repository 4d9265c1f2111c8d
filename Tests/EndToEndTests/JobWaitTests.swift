import Foundation
import HTTPTypes
import HummingbirdTesting
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// Waiting without polling (`Prefer: wait`, `?wait=N`) and conditional reads (`ETag`).
@Suite(.ownThreads) struct JobWaitTests {
    static let prefer = HTTPField.Name("Prefer")!
    static let applied = HTTPField.Name("Preference-Applied")!

    @Test func preferWaitAnswersWithTheEndedJob() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload("gradient.webp")["id"])
            let response = try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": 32]]], headers: [Self.prefer: "wait=30"])
            let job = try h.json(response)
            #expect(response.status == .ok && job["status"] == "succeeded", "\(response.status) \(job)")
            #expect(response.headers[Self.applied] == "wait=30" && response.headers[.location] == "/v1/jobs/\(job["id"]?.stringValue ?? "")")
            #expect(job["outputs"]?["default"]?["files"]?.arrayValue?.count == 1)
        }
    }

    @Test func aLongPollEndsWhenTheJobDoesNotAfter() async throws {
        // No workers yet: the job stays queued, so a short wait answers with it as it is.
        try await Harness.run(withWorkers: false) { h in
            let media = try #require(try await h.upload("gradient.webp")["id"])
            let id = try #require(try h.json(try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": 32]]]))["id"]?.stringValue)
            let started = ContinuousClock.now
            let queued = try h.json(try await h.request(.get, "/v1/jobs/\(id)?wait=1"))
            #expect(queued["status"] == "queued" && ContinuousClock.now - started >= .seconds(1))
            #expect(try await h.request(.get, "/v1/jobs/\(id)?wait=soon").status == .badRequest)

            // A long poll, then the job is canceled meanwhile (straight in the store: the test client has one
            // connection, busy with the poll): the poll answers with the end, woken by the change's NOTIFY.
            async let polled = h.request(.get, "/v1/jobs/\(id)?wait=60")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await h.kiln.store.requestCancel(id: id, tenant: "tenant-a")?.status == .canceled)
            let ended = try h.json(try await polled)
            #expect(ended["status"] == "canceled", "\(ended)")
            #expect(ContinuousClock.now - started < .seconds(30), "woken by the job's end, not the 60 s deadline")
        }
    }

    @Test func unchangedResourcesAnswer304() async throws {
        try await Harness.run { h in
            let media = try await h.upload("gradient.webp")
            let mediaID = try #require(media["id"]?.stringValue)
            let first = try await h.request(.get, "/v1/media/\(mediaID)")
            let tag = try #require(first.headers[.eTag])
            let again = try await h.request(.get, "/v1/media/\(mediaID)", headers: [.ifNoneMatch: tag])
            #expect(again.status == .notModified && again.body.readableBytes == 0 && again.headers[.eTag] == tag)
            #expect(try await h.request(.get, "/v1/media/\(mediaID)", headers: [.ifNoneMatch: "\"other\""]).status == .ok)

            let submitted = try h.json(try await h.submit(["input": .string(mediaID), "operations": [["op": "thumbnail", "width": 32]]]))
            let id = try #require(submitted["id"]?.stringValue)
            let done = try await h.waitForJob(id)
            #expect(done["status"] == "succeeded")
            let read = try await h.request(.get, "/v1/jobs/\(id)")
            let jobTag = try #require(read.headers[.eTag])
            #expect(try await h.request(.get, "/v1/jobs/\(id)", headers: [.ifNoneMatch: "W/\(jobTag)"]).status == .notModified)
            // A changed job gets a new tag: another job's tag does not match this one.
            let other = try h.json(try await h.submit(["input": .string(mediaID), "operations": [["op": "thumbnail", "width": 16]]]))
            let otherRead = try await h.request(.get, "/v1/jobs/\(try #require(other["id"]?.stringValue))", headers: [.ifNoneMatch: jobTag])
            #expect(otherRead.status == .ok && otherRead.headers[.eTag] != jobTag)
        }
    }
}
