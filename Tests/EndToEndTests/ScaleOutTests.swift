import Foundation
import JobRunner
import KilnApp
import KilnTestSupport
import ServiceLifecycle
import Testing

/// `kiln serve --no-workers` and `kiln worker` as separate processes sharing one
/// database and store: the HTTP process queues, the worker process runs.
@Suite(.ownThreads) struct ScaleOutTests {
    @Test func aWorkerOnlyProcessRunsJobsQueuedByAnHTTPOnlyProcess() async throws {
        var configuration = try TestEnvironment.configuration()
        // Polling every 60 s: a job finishing within the wait below was woken by NOTIFY.
        configuration.worker.pollSeconds = 60
        let workerKiln = try Kiln(configuration: configuration, logger: TestEnvironment.logger("kiln.worker"))
        let workers = workerKiln.makeWorkerGroup()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await workers.run() }
            try await Harness.run(configuration: configuration, withWorkers: false) { h in
                // Give the worker time to migrate (already done by HTTP), open its gate and LISTEN.
                try await Task.sleep(for: .seconds(1))
                let id = try #require(try await h.upload("gradient.webp")["id"]?.stringValue)
                let submitted = try await h.submit(["input": .string(id), "operations": [["op": "thumbnail", "width": 50]]])
                let job = try await h.waitForJob(try #require(try h.json(submitted)["id"]?.stringValue), timeout: .seconds(20))
                #expect(job["status"] == "succeeded", "\(job)")
                let file = try #require(job["outputs"]?["default"]?["files"]?.arrayValue?.first)
                #expect(try Harness.decodeImage(try await h.fetch(url: try #require(file["url"]?.stringValue)).body).width == 50)
            }
            await workers.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// Media records are read from memory once read (every submission reads its
    /// input's); a deletion through one API process must reach the others'.
    @Test func aMediaRecordDeletedThroughOneAPIProcessIsGoneFromAnothers() async throws {
        let configuration = try TestEnvironment.configuration()
        try await Harness.run(configuration: configuration, withWorkers: false) { a in
            try await Harness.run(configuration: configuration, withWorkers: false) { b in
                let id = try #require(try await a.upload("gradient.webp")["id"]?.stringValue)
                #expect(try await b.request(.get, "/v1/media/\(id)").status == .ok)
                #expect(try await b.request(.get, "/v1/media/\(id)").status == .ok, "answered from b's memory now")
                #expect(try await a.request(.delete, "/v1/media/\(id)").status == .noContent)
                #expect(try await a.request(.get, "/v1/media/\(id)").status == .notFound, "at once in the process that deleted it")
                // In the other, once the deletion's NOTIFY arrives (not after the cache's minute).
                let deadline = ContinuousClock.now + .seconds(5)
                var status = try await b.request(.get, "/v1/media/\(id)").status
                while status == .ok, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    status = try await b.request(.get, "/v1/media/\(id)").status
                }
                #expect(status == .notFound)
                let submitted = try await b.submit(["input": .string(id), "operations": [["op": "thumbnail", "width": 50]]])
                #expect(submitted.status.code >= 400 && submitted.status.code < 500, "a submission names a deleted input: \(submitted.status)")
            }
        }
    }
}
