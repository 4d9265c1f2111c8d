import Foundation
import HTTPTypes
import HummingbirdTesting
import JobRunner
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Synchronization
import Testing

/// Real `kiln worker` processes killed with SIGKILL, paused with SIGSTOP and
/// stopped with SIGTERM mid-job, beside an HTTP-only Kiln in the test.
@Suite(.ownThreads) struct CrashSafetyTests {
    static func configuration(drainSeconds: Double = 25) throws -> KilnConfiguration {
        try TestEnvironment.configuration(worker: WorkerConfiguration(
            concurrency: 1, leaseSeconds: 3, heartbeatSeconds: 1, pollSeconds: 0.5, reapSeconds: 0.5, drainSeconds: drainSeconds))
    }

    /// Uploads `source` and submits a slow HLS ladder of it; the job's id.
    static func submitLadder(_ h: Harness, source: String) async throws -> String {
        let media = try h.json(try await h.request(.post, "/v1/uploads", headers: [.contentType: "application/octet-stream"],
                                                   body: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: source)))))
        let submitted = try await h.submit(["input": try #require(media["id"]), "outputs": ["stream": [
            ["op": "hls", "renditions": [["height": 360], ["height": 180]], "segmentSeconds": 1, "preset": "medium"],
        ]]])
        return try #require(try h.json(submitted)["id"]?.stringValue)
    }

    /// Polls the job until `condition` holds.
    static func waitFor(_ h: Harness, _ id: String, timeout: Duration = .seconds(90), _ what: String,
                        _ condition: (JSONValue) -> Bool) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let job = try h.json(try await h.request(.get, "/v1/jobs/\(id)"))
            if condition(job) { return job }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("job \(id) never reached: \(what)")
    }

    /// Waits until `condition` holds, or fails the test after `seconds`.
    static func until(seconds: Int, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw HarnessError("not reached within \(seconds) s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The lease tokens under which the job has files in storage.
    static func attemptsWithFiles(_ h: Harness, _ id: String) async throws -> Set<String> {
        Set(try await h.kiln.blobs.list(prefix: "jobs/\(id)/").map { String($0.split(separator: "/")[2]) })
    }

    /// Every file the job lists, fetched whole while workers die around it: what a client sees is never half-written.
    final class Watcher: Sendable {
        let problems = Mutex<[String]>([])
        let checks = Mutex(0)

        func watch(_ h: Harness, _ id: String) async {
            while !Task.isCancelled {
                if let job = try? h.json(try await h.request(.get, "/v1/jobs/\(id)")) {
                    for output in job["outputs"]?.objectValue?.values.map({ $0 }) ?? [] {
                        for file in output["files"]?.arrayValue ?? [] {
                            guard let path = file["path"]?.stringValue, let size = file["size"]?.intValue,
                                  let response = try? await h.request(.get, "/v1/jobs/\(id)/files/\(path)") else { continue }
                            // A file dropped from the listing meanwhile (a new attempt began) may be gone. A growing
                            // playlist may have grown since the listing was read; it is never cut short. Anything else is exactly as listed.
                            let bytes = response.body.readableBytes
                            let growing = path.hasSuffix(".m3u8") && output["status"] != "succeeded"
                            if response.status == .ok && (growing ? bytes < size || response.body.getString(at: bytes - 1, length: 1) != "\n" : bytes != size) {
                                problems.withLock { $0.append("\(path): \(bytes) of \(size) bytes") }
                            }
                            checks.withLock { $0 += 1 }
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(150))
            }
        }
    }

    @Test func aWorkerKilledMidJobTwiceLosesNothingAndLeavesNothing() async throws {
        let source = try HLSJobTests.longSource()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let configuration = try Self.configuration()
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let id = try await Self.submitLadder(h, source: source)
            let watcher = Watcher()
            let watching = Task { await watcher.watch(h, id) }
            var worker = try KilnProcess(configuration: configuration, name: "w1")
            for round in 1...2 {
                _ = try await Self.waitFor(h, id, "attempt \(round) published part of its stream") {
                    $0["status"] == "running" && $0["attempt"]?.intValue == round && $0["outputs"]?["stream"]?["files"]?.arrayValue?.isEmpty == false
                }
                // The listing may still be the killed attempt's stream: wait for this attempt's own files in storage.
                let deadline = ContinuousClock.now + .seconds(60)
                while try await Self.attemptsWithFiles(h, id).count < round, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                worker.signal(SIGKILL)
                // Killed mid-ladder, it gives back a decoder's and an encoder's memory and threads as it goes;
                // on a loaded 2-core machine that once took over 5 s. That it ends is the point, not how fast.
                #expect(await worker.waitForExit(timeout: .seconds(30)) != nil)
                worker = try KilnProcess(configuration: configuration, name: "w\(round + 1)")
            }
            let job = try await h.waitForJob(id, timeout: .seconds(120))
            watching.cancel()
            #expect(job["status"] == "succeeded" && job["attempt"] == 3, "\(job)\n\(worker.log)")
            let playlists = try await HLSJobTests.fetchAll(h, base: "/v1/jobs/\(id)/files", master: "stream/master.m3u8", key: h.key)
            #expect(playlists.values.allSatisfy { $0.contains("#EXT-X-ENDLIST") })
            // The killed attempts' uploads were collected: only the winner's files remain, and every one is listed.
            #expect(try await Self.attemptsWithFiles(h, id).count == 1)
            let listed = try #require(job["outputs"]?["stream"]?["files"]?.arrayValue).count
            #expect(try await h.kiln.blobs.list(prefix: "jobs/\(id)/").count == listed)
            #expect(watcher.problems.withLock { $0 }.isEmpty, "\(watcher.problems.withLock { $0 })")
            #expect(watcher.checks.withLock { $0 } > 10, "the watcher fetched files while the workers died")
        }
    }

    @Test func aPausedWorkerWritesNothingAfterAnotherTookItsJob() async throws {
        let source = try HLSJobTests.longSource()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let configuration = try Self.configuration()
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let id = try await Self.submitLadder(h, source: source)
            let paused = try KilnProcess(configuration: configuration, name: "paused")
            _ = try await Self.waitFor(h, id, "attempt 1 published part of its stream") {
                $0["attempt"]?.intValue == 1 && $0["outputs"]?["stream"]?["files"]?.arrayValue?.isEmpty == false
            }
            paused.signal(SIGSTOP)
            let healthy = try KilnProcess(configuration: configuration, name: "healthy")
            _ = try await Self.waitFor(h, id, "attempt 2 running") { $0["status"] == "running" && $0["attempt"]?.intValue == 2 }
            paused.signal(SIGCONT)
            let job = try await h.waitForJob(id, timeout: .seconds(120))
            #expect(job["status"] == "succeeded" && job["attempt"] == 2, "\(job)\n\(paused.log)\n\(healthy.log)")
            // The zombie hears its lease is gone, stops, and collects what it wrote.
            let deadline = ContinuousClock.now + .seconds(15)
            while try await Self.attemptsWithFiles(h, id).count > 1 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(try await Self.attemptsWithFiles(h, id).count == 1, "only the winning attempt's files remain")
            #expect(paused.log.contains("lease lost"), "\(paused.log)")
            let after = try h.json(try await h.request(.get, "/v1/jobs/\(id)"))
            #expect(after["status"] == "succeeded" && after["outputs"]?["stream"]?["files"] == job["outputs"]?["stream"]?["files"],
                    "the zombie changed nothing after the job ended")
            _ = try await HLSJobTests.fetchAll(h, base: "/v1/jobs/\(id)/files", master: "stream/master.m3u8", key: h.key)
        }
    }

    @Test func sigtermHandsARunningJobBackWithoutUsingAnAttempt() async throws {
        let source = try HLSJobTests.longSource()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let configuration = try Self.configuration(drainSeconds: 1)
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let id = try await Self.submitLadder(h, source: source)
            let leaving = try KilnProcess(configuration: configuration, name: "leaving")
            _ = try await Self.waitFor(h, id, "attempt 1 running") { $0["status"] == "running" && ($0["progress"]?.doubleValue ?? 0) > 0 }
            leaving.signal(SIGTERM)
            let status = await leaving.waitForExit(timeout: .seconds(45))
            #expect(status == 0, "a clean exit after draining: \(String(describing: status))\n\(leaving.log)")
            let handedBack = try h.json(try await h.request(.get, "/v1/jobs/\(id)"))
            #expect(handedBack["status"] == "queued" && handedBack["attempt"] == 0, "\(handedBack)")
            let next = try KilnProcess(configuration: configuration, name: "next")
            let job = try await h.waitForJob(id, timeout: .seconds(120))
            #expect(job["status"] == "succeeded" && job["attempt"] == 1, "the hand-back used no attempt: \(job)\n\(next.log)")
        }
    }

    /// Server and workers in one process, against a PostgreSQL of the test's own that it stops for 4 s.
    @Test
    func aPostgresRestartUnderLoadLosesNoAcceptedJob() async throws {
        let postgres = try PrivatePostgres()
        var configuration = try TestEnvironment.configuration(worker: WorkerConfiguration(
            concurrency: 2, leaseSeconds: 5, heartbeatSeconds: 1, pollSeconds: 0.5, reapSeconds: 0.5))
        configuration.databaseURL = postgres.url
        try await Harness.run(configuration: configuration) { h in
            let media = try #require(try await h.upload("gradient.webp")["id"])
            let accepted = Mutex<[String]>([])
            let refused = Mutex<[String]>([])
            // The phases wait on what happened, not on the clock: on a busy 2-core machine a submission can take
            // a second, and a fixed window once saw 2 accepted before the stop and none in the 5 s after the restart.
            let loadGoesOn = Mutex(true)
            let load = Task {
                while loadGoesOn.withLock({ $0 }) {
                    do {
                        let response = try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": 24]]])
                        if response.status == .accepted, let id = try h.json(response)["id"]?.stringValue {
                            accepted.withLock { $0.append(id) }
                        } else {
                            refused.withLock { $0.append("\(response.status.code) \(String(buffer: response.body))") }
                        }
                    } catch {
                        refused.withLock { $0.append("\(error)") }
                    }
                    try? await Task.sleep(for: .milliseconds(40))
                }
            }
            try await Self.until(seconds: 60) { accepted.withLock { $0.count } >= 3 }
            try postgres.stop()
            // Not ready while the database is away: /healthz says so (asked on a connection of its own: the test
            // client's one may be waiting on a submission that reached the server as it went down). The server
            // answers within its 2 s ping; the client waits longer, since this server shares the test process's
            // two cooperative threads with every suite running at once (a full CI run once took over 5 s).
            try await Task.sleep(for: .seconds(2))
            let port = try #require(h.client.port)
            let health = String(decoding: try await runToolOffPool("python3", ["-c", """
                import http.client, sys
                c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=30)
                c.request('GET', '/healthz')
                print(c.getresponse().status)
                """, "\(port)"]), as: UTF8.self)
            #expect(health.trimmingCharacters(in: .whitespacesAndNewlines) == "503")
            try await Task.sleep(for: .seconds(2))
            let acceptedBefore = accepted.withLock { $0.count }
            try postgres.start()
            try await Self.until(seconds: 90) { accepted.withLock { $0.count } > acceptedBefore }
            try await Task.sleep(for: .seconds(1))
            loadGoesOn.withLock { $0 = false }
            await load.value
            let ids = accepted.withLock { $0 }
            let refusals = refused.withLock { $0 }
            // Submissions were accepted both before the database went away and after it came back.
            #expect(acceptedBefore > 0 && ids.count > acceptedBefore, "accepted before the restart: \(acceptedBefore), in all: \(ids.count)")
            // A submission that reached the server as the database went down waits for it (the test client has one
            // connection, so the rest wait behind it); any refused meanwhile got 503, never a 500.
            #expect(refusals.allSatisfy { $0.hasPrefix("503") }, "refused while down, with 503: \(Set(refusals))")
            var lost: [String] = []
            for id in ids {
                let job = try await h.waitForJob(id, timeout: .seconds(60))
                if job["status"] != "succeeded" { lost.append("\(id): \(job)") }
            }
            print("postgres restart under load: \(ids.count) jobs accepted, \(refusals.count) submissions refused with 503 while it was down, \(lost.count) lost")
            #expect(lost.isEmpty, "accepted \(ids.count), lost \(lost.count): \(lost.prefix(3))")
            #expect(try await h.client.executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    /// Rounds of SIGKILL mid-transcode: `KILN_CRASH_ROUNDS` (3 by default; the closing note quotes 20).
    @Test func roundsOfSigkillMidTranscodeLoseNoJob() async throws {
        let rounds = Int(ProcessInfo.processInfo.environment["KILN_CRASH_ROUNDS"] ?? "") ?? 3
        let source = try HLSJobTests.longSource()
        defer { try? FileManager.default.removeItem(atPath: source) }
        let configuration = try Self.configuration()
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let media = try h.json(try await h.request(.post, "/v1/uploads", headers: [.contentType: "application/octet-stream"],
                                                       body: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: source)))))
            var worker = try KilnProcess(configuration: configuration, name: "round-0")
            var succeeded = 0
            var killedMidJob = 0
            for round in 1...rounds {
                // Each round the same transcode, run again (not reused): a round must be under way to be killed.
                let submitted = try await h.submit(["input": try #require(media["id"]), "reuse": false, "outputs": ["video": [
                    ["op": "transcode", "height": 240, "preset": "veryfast"],
                ]]])
                let id = try #require(try h.json(submitted)["id"]?.stringValue)
                let running = try await Self.waitFor(h, id, "round \(round) under way") {
                    $0["status"] == "running" && ($0["progress"]?.doubleValue ?? 0) > 0.05 || $0["status"] == "succeeded"
                }
                if running["status"] == "running" {
                    worker.signal(SIGKILL)
                    _ = await worker.waitForExit(timeout: .seconds(5))
                    killedMidJob += 1
                }
                worker = try KilnProcess(configuration: configuration, name: "round-\(round)")
                let job = try await h.waitForJob(id, timeout: .seconds(120))
                guard job["status"] == "succeeded", let file = job["outputs"]?["video"]?["files"]?.arrayValue?.first,
                      let path = file["path"]?.stringValue else {
                    Issue.record("round \(round): \(job)\n\(worker.log)")
                    continue
                }
                // The output is whole: ffprobe reads its full duration.
                let bytes = try await h.request(.get, "/v1/jobs/\(id)/files/\(path)").body
                let local = NSTemporaryDirectory() + "kiln-round-\(UUID().uuidString).mp4"
                try Data(buffer: bytes).write(to: URL(fileURLWithPath: local))
                defer { try? FileManager.default.removeItem(atPath: local) }
                let duration = Double(String(decoding: try runTool("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", local]),
                                             as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                #expect(abs(duration - 40) < 0.1, "round \(round): \(duration) s")
                succeeded += 1
            }
            print("kill -9 rounds: \(rounds) jobs accepted, \(killedMidJob) workers killed mid-transcode, \(succeeded) succeeded, \(rounds - succeeded) lost")
            #expect(succeeded == rounds && killedMidJob >= rounds - 1)
        }
    }
}
