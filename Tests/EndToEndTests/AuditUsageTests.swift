import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import HTTPAPI
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// The audit log, per-tenant usage and per-key rate limits, over real HTTP.
@Suite(.ownThreads) struct AuditUsageTests {
    static func keyID(_ key: String) -> String {
        "key_" + SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined().prefix(12)
    }

    @Test func actionsAreRecordedPerTenantNewestFirst() async throws {
        try await Harness.run(withWorkers: false) { h in
            let kept = try #require(try await h.upload("gradient.webp")["id"]?.stringValue)
            let gone = try #require(try await h.upload("astronaut.jpg")["id"]?.stringValue)
            let job = try #require(try h.json(try await h.submit(["input": .string(kept), "operations": [["op": "thumbnail", "width": 16]]]))["id"]?.stringValue)
            #expect(try await h.request(.post, "/v1/jobs/\(job)/cancel").status == .accepted)
            #expect(try await h.request(.delete, "/v1/media/\(gone)").status == .noContent)
            #expect(try await h.request(.post, "/v1/media/\(kept)/links").status == .created)

            let page = try h.json(try await h.request(.get, "/v1/audit"))
            let entries = try #require(page["data"]?.arrayValue)
            let actions = entries.compactMap { $0["action"]?.stringValue }
            #expect(actions == ["media.link", "media.delete", "job.cancel", "job.submit", "media.upload", "media.upload"], "\(actions)")
            let objects = entries.compactMap { $0["object"]?.stringValue }
            #expect(objects == [kept, gone, job, job, gone, kept])
            #expect(entries.allSatisfy { $0["keyId"]?.stringValue == Self.keyID("key-a") && $0["client"] == "127.0.0.1" }, "\(entries)")
            #expect(entries.last?["detail"]?["size"]?.doubleValue == Double(try Fixture.data("gradient.webp").count))

            // Pages follow the cursor; an action filter narrows.
            let first = try h.json(try await h.request(.get, "/v1/audit?limit=2"))
            let cursor = try #require(first["nextCursor"]?.stringValue)
            let second = try h.json(try await h.request(.get, "/v1/audit?limit=2&cursor=\(cursor)"))
            #expect(second["data"]?.arrayValue?.compactMap { $0["action"]?.stringValue } == ["job.cancel", "job.submit"])
            let uploads = try h.json(try await h.request(.get, "/v1/audit?action=media.upload"))["data"]?.arrayValue
            #expect(uploads?.count == 2)
            // Another tenant sees none of it.
            #expect(try h.json(try await h.request(.get, "/v1/audit", key: "key-b"))["data"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test func usageCountsBytesJobsAndSeconds() async throws {
        try await Harness.run { h in
            let image = try #require(try await h.upload("gradient.webp")["id"])
            _ = try await h.upload("astronaut.jpg")
            let job = try await h.waitForJob(try #require(try h.json(try await h.submit(["input": image, "operations": [
                ["op": "thumbnail", "width": 64], ["op": "encode", "format": "png"],
            ]]))["id"]?.stringValue))
            #expect(job["status"] == "succeeded")
            let outputBytes = job["outputs"]?["default"]?["files"]?.arrayValue?.compactMap { $0["size"]?.doubleValue }.reduce(0, +) ?? 0
            let usage = try h.json(try await h.request(.get, "/v1/usage"))
            let uploaded = Double(try Fixture.data("gradient.webp").count + Fixture.data("astronaut.jpg").count)
            #expect(usage["storedBytes"]?["uploads"]?.doubleValue == uploaded, "\(usage)")
            #expect(usage["storedBytes"]?["uploadsByKind"]?["image"]?.doubleValue == uploaded)
            #expect(outputBytes > 0 && usage["storedBytes"]?["outputs"]?.doubleValue == outputBytes)
            #expect(usage["storedBytes"]?["total"]?.doubleValue == uploaded + outputBytes)
            #expect(usage["media"]?["image"] == 2 && usage["jobs"]?["succeeded"] == 1 && usage["jobs"]?["queued"] == 0)
            #expect((usage["processingSeconds"]?.doubleValue ?? 0) > 0)
            let other = try h.json(try await h.request(.get, "/v1/usage", key: "key-b"))
            #expect(other["storedBytes"]?["total"] == 0 && other["jobs"]?["succeeded"] == 0)
        }
    }

    @Test func eachKeyHasItsOwnTokenBucket() async throws {
        // A token every 10 s and a burst of 3: however slow a loaded test machine is, the 4th request comes too soon.
        var configuration = try TestEnvironment.configuration()
        configuration.rateLimit = 0.1
        configuration.rateBurst = 3
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            for _ in 0..<3 { #expect(try await h.request(.get, "/v1/jobs").status == .ok) }
            let refused = try await h.request(.get, "/v1/jobs")
            #expect(refused.status == .tooManyRequests)
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...10).contains(retryAfter))
            #expect(try h.json(refused)["error"]?["code"] == "rate_limited")
            // Another key is not held back by the first.
            #expect(try await h.request(.get, "/v1/jobs", key: "key-b").status == .ok)
        }
    }

    @Test func theBucketRefillsAtItsRate() {
        let limiter = RateLimiter(rate: 2, burst: 3)
        let start = ContinuousClock.now
        for _ in 0..<3 { #expect(limiter.take("k", now: start) == nil) }
        // Empty: the next token is half a second away.
        let wait = limiter.take("k", now: start)
        #expect(wait.map { abs($0 - 0.5) < 0.001 } == true, "\(String(describing: wait))")
        #expect(limiter.take("k", now: start + .milliseconds(600)) == nil)
        #expect(limiter.take("k", now: start + .milliseconds(600)) != nil)
        // Never more than the burst, however long it rested.
        for _ in 0..<3 { #expect(limiter.take("k", now: start + .seconds(3600)) == nil) }
        #expect(limiter.take("k", now: start + .seconds(3600)) != nil)
        #expect(limiter.take("other", now: start) == nil)
    }

    /// Failed authentications are audited for operators (tenant `*`), at most once a minute per client address.
    @Test func authenticationFailuresAreAuditedWithoutFlooding() async throws {
        try await Harness.run(withWorkers: false) { h in
            for _ in 0..<5 {
                #expect(try await h.request(.get, "/v1/jobs", key: "not-a-key").status == .unauthorized)
            }
            let entries = try await h.kiln.store.auditLog(tenant: "*", action: "auth.failure", limit: 50, before: nil)
            #expect(entries.count == 1, "five failures from one address in a minute: one entry, \(entries)")
            #expect(entries.first?.object == "unknown_key" && entries.first?.keyID?.hasPrefix("key_") == true && entries.first?.client != nil,
                    "\(String(describing: entries.first))")
        }
    }
}
