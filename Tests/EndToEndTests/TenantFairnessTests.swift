import Foundation
import HTTPTypes
import JobRunner
import JobStore
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import PostgresNIO
import Testing

/// One tenant's backlog does not hold up another's work, and each limit answers with its code.
@Suite(.serialized, .ownThreads)
struct TenantFairnessTests {
    /// Tenant A has 1,000 jobs queued and its jobs fill both worker slots; tenant B's single job
    /// starts as soon as one slot frees: it waits one of A's jobs, not A's backlog.
    @Test func aBacklogOfOneTenantDoesNotDelayAnothersJob() async throws {
        let configuration = try TestEnvironment.configuration(worker: WorkerConfiguration(
            concurrency: 2, leaseSeconds: 10, heartbeatSeconds: 2, pollSeconds: 0.5, reapSeconds: 1))
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let uploaded = try #require(try await h.upload("gradient.webp")["id"]?.stringValue)
            let media = try #require(try await h.kiln.store.media(id: uploaded, tenant: "tenant-a"))
            for index in 0..<1000 {
                // Each its own work (no reuse of an identical job's files).
                let plan = try JobPlan(outputs: [("thumb", [["op": "thumbnail", "width": .number(Double(16 + index % 200))],
                                                            ["op": "encode", "format": "png", "compression": .number(Double(index / 200))]],
                                                  JSONPointer(["outputs", "thumb"]))], input: .image, registry: Stages.registry)
                _ = try await h.kiln.store.insertJob(NewJob(tenant: "tenant-a", input: media, plan: plan, webhook: nil, metadata: nil,
                                                            idempotencyKey: nil, requestHash: nil, reuse: false))
            }
            let worker = try KilnProcess(configuration: configuration, name: "fair-worker")
            // A's jobs are under way on both slots.
            let deadline = ContinuousClock.now + .seconds(60)
            while try await h.json(try await h.request(.get, "/v1/usage"))["jobs"]?["succeeded"]?.doubleValue ?? 0 < 10 {
                guard ContinuousClock.now < deadline else { throw HarnessError("tenant A's jobs never ran:\n\(worker.log.suffix(2000))") }
                try await Task.sleep(for: .milliseconds(100))
            }
            var b = h
            b.key = "key-b"
            let bMedia = try #require(try await b.upload("gradient.webp")["id"])
            let started = ContinuousClock.now
            let submitted = try await b.submit(["input": bMedia, "operations": [["op": "thumbnail", "width": 40]]],
                                               headers: [HTTPField.Name("Prefer")!: "wait=30"])
            let waited = ContinuousClock.now - started
            #expect(try b.json(submitted)["status"] == "succeeded", "\(String(buffer: submitted.body))")
            let aQueued = try await h.json(try await h.request(.get, "/v1/usage"))["jobs"]?["queued"]?.doubleValue ?? 0
            print("tenant B's job ended \(waited) after submission, with \(Int(aQueued)) of tenant A's jobs still queued")
            #expect(waited < .seconds(5), "tenant B waited \(waited)")
            // B went ahead of A's backlog: of A's jobs, only those claimed as B arrived started between B's
            // submission and B's start (a slot each, and a claim each already under way). Counted on the
            // rows, not as A's jobs left queued: how many A's worker runs meanwhile depends on the machine's
            // load (a loaded CI run had 801 of A's 1,000 done by then, with B still first in line).
            let id = try #require(try b.json(submitted)["id"]?.stringValue)
            let rows = try await h.kiln.client.query("""
                SELECT count(*)::int FROM jobs a, jobs b
                WHERE b.id = \(id) AND a.tenant = 'tenant-a' AND a.started_at > b.created_at AND a.started_at < b.started_at
                """, logger: h.kiln.logger)
            var aheadOfB = 0
            for try await count in rows.decode(Int.self) { aheadOfB = count }
            #expect(aheadOfB <= 4, "\(aheadOfB) of tenant A's jobs started after B's was submitted and before it started")
            _ = worker
        }
    }

    @Test func eachLimitAnswersWithItsCode() async throws {
        var configuration = try TestEnvironment.configuration(worker: WorkerConfiguration(
            concurrency: 2, leaseSeconds: 10, heartbeatSeconds: 2, pollSeconds: 0.5, reapSeconds: 1))
        configuration.tenantLimits.tenants["tenant-b"] = TenantLimits(maxQueued: 3, maxStorageBytes: 100_000)
        configuration.tenantLimits.tenants["tenant-a"] = TenantLimits(maxRunning: 1)
        try await Harness.run(configuration: configuration, withWorkers: false) { [configuration] h in
            var b = h
            b.key = "key-b"
            // Stored bytes: astronaut.jpg is 68 KB, the limit 100 KB.
            let first = try #require(try await b.upload("astronaut.jpg")["id"])
            let second = try await b.request(.post, "/v1/uploads", headers: [.contentType: "application/octet-stream"],
                                             body: ByteBuffer(data: try Fixture.data("astronaut.jpg")))
            let secondCode = try b.json(second)["error"]?["code"]
            #expect(second.status == .contentTooLarge && secondCode == "storage_quota_exceeded", "\(String(buffer: second.body))")
            let tus = try await b.request(.post, "/v1/uploads/tus", headers: [HTTPField.Name("Tus-Resumable")!: "1.0.0",
                                                                              HTTPField.Name("Upload-Length")!: "50000"])
            #expect(tus.status == .contentTooLarge, "a tus upload that could never be kept is refused before a byte: \(tus.status)")
            // Queued jobs: no worker runs, so they stay queued; the fourth is refused.
            for width in 10..<13 {
                #expect(try await b.submit(["input": first, "operations": [["op": "thumbnail", "width": .number(Double(width))]]]).status == .accepted)
            }
            let fourth = try await b.submit(["input": first, "operations": [["op": "thumbnail", "width": 20]]])
            let fourthCode = try b.json(fourth)["error"]?["code"]
            #expect(fourth.status == .tooManyRequests && fourthCode == "queue_quota_exceeded", "\(String(buffer: fourth.body))")
            let usage = try b.json(try await b.request(.get, "/v1/usage"))
            #expect(usage["limits"]?["queuedJobs"] == ["used": 3, "limit": 3], "\(usage)")
            #expect(usage["limits"]?["uploadBytes"]?["limit"] == 100_000, "\(usage)")
            #expect(usage["limits"]?["runningJobs"]?["limit"] == .null, "\(usage)")

            // Running jobs: tenant A may run one at a time though two slots are free.
            let media = try #require(try await h.upload("astronaut.jpg")["id"])
            var ids: [String] = []
            for sigma in 1...6 {
                let response = try await h.submit(["input": media, "reuse": false, "operations": [
                    ["op": "filter", "blur": .number(Double(sigma) * 2)], ["op": "encode", "format": "png"],
                ]])
                ids.append(try #require(try h.json(response)["id"]?.stringValue))
            }
            #expect(try h.json(try await h.request(.get, "/v1/usage"))["limits"]?["runningJobs"]?["limit"] == 1)
            let worker = try KilnProcess(configuration: configuration, name: "limited-worker")
            var spans: [(Date, Date)] = []
            for id in ids {
                let job = try await h.waitForJob(id, timeout: .seconds(120))
                #expect(job["status"] == "succeeded", "\(job)")
                let start = try #require(job["startedAt"]?.stringValue.flatMap(apiDate)), end = try #require(job["finishedAt"]?.stringValue.flatMap(apiDate))
                spans.append((start, end))
            }
            spans.sort { $0.0 < $1.0 }
            for (earlier, later) in zip(spans, spans.dropFirst()) {
                #expect(later.0 >= earlier.1, "two of tenant A's jobs ran at once: \(earlier) and \(later)")
            }
            _ = worker
        }
    }
}
