import AsyncHTTPClient
import Foundation
import HTTPAPI
import JobRunner
import KilnApp
import KilnTestSupport
import NIOCore
import NIOHTTP1
import PipelineEngine
import Synchronization
import Testing

/// `kiln serve` as users run it: the API in one process, jobs in the worker
/// processes it supervises. A job that crashes its worker (the test-only
/// `crash` operation, a SIGSEGV or SIGABRT as a codec bug would raise) takes
/// down that process and nothing else.
@Suite(.serialized, .ownThreads)
struct SupervisedWorkerTests {
    /// A `kiln serve` process on a port of its own, and an HTTP client for it.
    struct Served {
        let process: KilnProcess
        let base: String
        let key = "key-a"

        init(configuration: KilnConfiguration, processes: Int, name: String, environment: [String: String] = [:]) throws {
            let port = try WebhookTests.freePort()
            base = "http://127.0.0.1:\(port)"
            process = try KilnProcess(["serve"], configuration: configuration, name: name, environment: [
                "KILN_PORT": "\(port)", "KILN_TEST_OPERATIONS": "crash", "KILN_WORKER_PROCESSES": "\(processes)",
            ].merging(environment) { $1 })
        }

        func request(_ method: HTTPMethod, _ path: String, body: Data? = nil, contentType: String? = nil,
                     timeout: Int64 = 10) async throws -> (status: Int, body: Data) {
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            if let body { request.body = .bytes(ByteBuffer(data: body)) }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), Data(buffer: bytes))
        }

        func json(_ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
            let response = try await request(method, path, body: try body.map { try $0.encoded() }, contentType: body == nil ? nil : "application/json")
            return try JSONValue.decode(response.body)
        }

        func waitUntilReady() async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while (try? await request(.GET, "/healthz", timeout: 2).status) != 200 {
                guard ContinuousClock.now < deadline else { throw HarnessError("kiln serve did not become ready:\n\(process.log)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func waitForJob(_ id: String, timeout: Duration = .seconds(90)) async throws -> JSONValue {
            let deadline = ContinuousClock.now + timeout
            while true {
                let job = try await json(.GET, "/v1/jobs/\(id)")
                if let status = job["status"]?.stringValue, ["succeeded", "failed", "canceled"].contains(status) { return job }
                guard ContinuousClock.now < deadline else { throw HarnessError("job \(id) did not end: \(job)") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        /// The worker processes running now: children of the server, by /proc.
        var workers: Set<Int32> { Self.children(of: process.pid).filter { Self.commandLine($0).contains("worker") } }
        /// The process that reads uploads' headers for the server.
        var inspectors: Set<Int32> { Self.children(of: process.pid).filter { Self.commandLine($0).contains("inspect") } }
        /// The processes that render image URLs.
        var renderers: Set<Int32> { Self.children(of: process.pid).filter { Self.commandLine($0).contains("render") } }
        /// The process the others are forked from.
        var zygotes: Set<Int32> { Self.children(of: process.pid).filter { Self.commandLine($0).dropFirst().first == "zygote" } }

        static func commandLine(_ pid: Int32) -> [String] {
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
            return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        }

        static func children(of parent: Int32) -> Set<Int32> {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return Set(entries.compactMap(Int32.init).filter { pid in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return false }
                // pid (comm) state ppid …: comm may hold spaces, so count from the last parenthesis.
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 1 && Int32(fields[1]) == parent
            })
        }
    }

    static func configuration() throws -> KilnConfiguration {
        try TestEnvironment.configuration(worker: WorkerConfiguration(
            concurrency: 2, leaseSeconds: 5, heartbeatSeconds: 1, pollSeconds: 0.5, reapSeconds: 0.5))
    }

    @Test(arguments: ["segv", "abort"])
    func aJobThatCrashesItsWorkerTakesDownThatProcessAndNothingElse(signal: String) async throws {
        let served = try Served(configuration: try Self.configuration(), processes: 2, name: "supervised-\(signal)")
        try await served.waitUntilReady()
        let deadline = ContinuousClock.now + .seconds(30)
        while served.workers.count < 2 {
            guard ContinuousClock.now < deadline else { throw HarnessError("2 worker processes never ran: \(served.workers)\n\(served.process.log)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let before = served.workers
        let upload = try await served.request(.POST, "/v1/uploads", body: try Fixture.data("gradient.webp"), contentType: "application/octet-stream")
        #expect(upload.status == 201)
        let record = try JSONValue.decode(upload.body)
        let media = try #require(record["id"])
        #expect(record["width"] == 300 && record["height"] == 200, "the inspector process read the header: \(record)")

        // Status reads go on throughout, on connections of their own.
        let reads = Mutex((answered: 0, failed: [String]()))
        let reading = Mutex(true)
        let reader = Task {
            while reading.withLock({ $0 }) {
                do {
                    let response = try await served.request(.GET, "/healthz", timeout: 5)
                    reads.withLock { response.status == 200 ? ($0.answered += 1) : $0.failed.append("status \(response.status)") }
                } catch {
                    reads.withLock { $0.failed.append("\(error)") }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let crashing = try #require(try await served.json(.POST, "/v1/jobs", [
            "input": media, "operations": [["op": "crash", "signal": .string(signal), "afterSeconds": 0.3]],
        ])["id"]?.stringValue)
        var others: [String] = []
        for width in 20..<28 {
            others.append(try #require(try await served.json(.POST, "/v1/jobs", [
                "input": media, "operations": [["op": "thumbnail", "width": .number(Double(width))]],
            ])["id"]?.stringValue))
        }
        let crashed = try await served.waitForJob(crashing)
        #expect(crashed["status"] == "failed" && crashed["error"]?["code"] == "worker_crashed", "\(crashed)")
        for id in others {
            let job = try await served.waitForJob(id)
            #expect(job["status"] == "succeeded", "a job beside the crashing one: \(job)")
        }
        // The server stayed up, and its worker processes are back: new ones, as many as before.
        let back = ContinuousClock.now + .seconds(60)
        while served.workers.count < 2 {
            guard ContinuousClock.now < back else { throw HarnessError("the worker processes did not come back: \(served.workers)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(served.workers != before, "workers \(before) → \(served.workers)")
        // Reads went on the whole time (how many depends on the machine's load: at least a few).
        let enough = ContinuousClock.now + .seconds(30)
        while reads.withLock({ $0.answered }) < 5 && ContinuousClock.now < enough { try await Task.sleep(for: .milliseconds(50)) }
        reading.withLock { $0 = false }
        await reader.value
        let (answered, failed) = reads.withLock { ($0.answered, $0.failed) }
        #expect(failed.isEmpty && answered >= 5, "reads answered \(answered), failed \(failed.count): \(failed.prefix(3))")
        let metrics = String(decoding: try await served.request(.GET, "/metrics").body, as: UTF8.self)
        let crashes = metrics.split(separator: "\n").first { $0.hasPrefix("kiln_worker_process_exits_total{reason=\"crash\"}") }
        #expect(crashes.flatMap { $0.split(separator: " ").last.flatMap { Double($0) } } ?? 0 >= 3, "\(crashes ?? "no crash count")")
        #expect(served.process.log.contains("a worker process ended"), "the server logs each death")
        // The workers' own metrics reach the server's /metrics, summed over every worker process,
        // the dead ones included: each thumbnail ran once (reports come every 2 s).
        let counted = ContinuousClock.now + .seconds(20)
        var thumbnails = 0.0
        while ContinuousClock.now < counted {
            let text = String(decoding: try await served.request(.GET, "/metrics").body, as: UTF8.self)
            thumbnails = text.split(separator: "\n").first { $0.hasPrefix("kiln_stage_seconds_count{op=\"thumbnail\"}") }
                .flatMap { $0.split(separator: " ").last.flatMap { Double($0) } } ?? 0
            if thumbnails >= Double(others.count) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(thumbnails == Double(others.count), "kiln_stage_seconds_count for thumbnail: \(thumbnails)")

        // A clean stop takes the workers with it.
        let workers = served.workers
        served.process.signal(SIGTERM)
        let status = await served.process.waitForExit(timeout: .seconds(60))
        #expect(status == 0, "\(served.process.log.suffix(2000))")
        #expect(workers.allSatisfy { kill($0, 0) != 0 }, "worker processes outlived their server")
    }

    /// PostgreSQL signals every listening backend on every NOTIFY, so the server holds the one
    /// LISTEN and relays the queue's notices to its workers over their lifelines. With their
    /// poll an hour away, jobs submitted to idle workers still start at once.
    @Test func workersHearTheQueueThroughTheirServer() async throws {
        let configuration = try Self.configuration()
        let schema = try #require(configuration.databaseSchema)
        let served = try Served(configuration: configuration, processes: 2, name: "supervised-notices",
                                environment: ["KILN_POLL_SECONDS": "3600"])
        try await served.waitUntilReady()
        // Both workers started, and their first look at the queue (made as each starts) found it empty.
        let started = ContinuousClock.now + .seconds(30)
        while served.process.log.components(separatedBy: "worker started").count - 1 < 2 {
            guard ContinuousClock.now < started else { throw HarnessError("2 workers never started:\n\(served.process.log)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(1))
        let kiln = try Kiln(configuration: configuration, logger: TestEnvironment.logger())
        let listeners = try await kiln.client.withDedicatedConnection { connection in
            try await connection.query("""
                SELECT count(*)::int FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND position(\(schema) in query) > 0
                """, logger: TestEnvironment.logger()).decode(Int.self).reduce(0, +)
        }
        #expect(listeners == 1, "backends listening on this server's channels: \(listeners)")

        let upload = try await served.request(.POST, "/v1/uploads", body: try Fixture.data("gradient.webp"), contentType: "application/octet-stream")
        let media = try #require(try JSONValue.decode(upload.body)["id"])
        for width in 30..<34 {
            let id = try #require(try await served.json(.POST, "/v1/jobs", [
                "input": media, "operations": [["op": "thumbnail", "width": .number(Double(width))]],
            ])["id"]?.stringValue)
            let job = try await served.waitForJob(id, timeout: .seconds(30))
            #expect(job["status"] == "succeeded", "\(job)")
        }
        served.process.signal(SIGTERM)
        #expect(await served.process.waitForExit(timeout: .seconds(60)) == 0)
    }

    /// A server killed outright leaves no worker behind: each reads end-of-file on its lifeline and stops.
    @Test func workersDoNotOutliveAKilledServer() async throws {
        let served = try Served(configuration: try Self.configuration(), processes: 2, name: "supervised-killed")
        try await served.waitUntilReady()
        let deadline = ContinuousClock.now + .seconds(30)
        while served.workers.count < 2 {
            guard ContinuousClock.now < deadline else { throw HarnessError("2 worker processes never ran:\n\(served.process.log)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let workers = served.workers
        // Each confines itself as it starts, before it takes work.
        let confined = ContinuousClock.now + .seconds(30)
        while served.process.log.components(separatedBy: "worker process confined").count - 1 < 2 {
            guard ContinuousClock.now < confined else { throw HarnessError("the workers never said they were confined:\n\(served.process.log)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        for pid in workers {
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            #expect(status.contains("NoNewPrivs:\t1") && status.contains("Seccomp:\t2"), "\(status)")
            let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8).split(separator: "\n")
            let core = limits.first { $0.hasPrefix("Max core file size") }?.split(separator: " ", omittingEmptySubsequences: true)
            #expect(core?.dropFirst(4).first == "0", "\(limits)")
            let space = limits.first { $0.hasPrefix("Max address space") }?.split(separator: " ", omittingEmptySubsequences: true)
            #expect(space?.dropFirst(3).first.flatMap { UInt64($0) } != nil, "an address-space limit is set: \(limits)")
        }
        served.process.signal(SIGKILL)
        _ = await served.process.waitForExit(timeout: .seconds(10))
        let gone = ContinuousClock.now + .seconds(30)
        while workers.contains(where: { kill($0, 0) == 0 && !Self.isZombie($0) }) {
            guard ContinuousClock.now < gone else { throw HarnessError("worker processes outlived a killed server: \(workers)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The process that reads uploads' headers dies (as a header parser crashing on a hostile
    /// file would): uploads go on, recorded without facts meanwhile, and a new one reads them again.
    @Test func anInspectorThatCrashesCostsUploadsTheirFactsAndNothingElse() async throws {
        let served = try Served(configuration: try Self.configuration(), processes: 1, name: "supervised-inspector")
        try await served.waitUntilReady()
        let upload = { () async throws -> JSONValue in
            let response = try await served.request(.POST, "/v1/uploads", body: try Fixture.data("gradient.webp"), contentType: "application/octet-stream")
            #expect(response.status == 201, "\(String(decoding: response.body, as: UTF8.self))")
            return try JSONValue.decode(response.body)
        }
        var deadline = ContinuousClock.now + .seconds(30)
        while served.inspectors.isEmpty {
            guard ContinuousClock.now < deadline else { throw HarnessError("no inspector process:\n\(served.process.log)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let first = try #require(served.inspectors.first)
        #expect(try await upload()["width"] == 300)
        // As the kernel's OOM killer would: a fault's SIGSEGV comes from within (the `crash` tests).
        kill(first, SIGKILL)
        // Whatever the moment, every upload is accepted; one while no inspector runs has no facts.
        for _ in 0..<5 { _ = try await upload() }
        deadline = ContinuousClock.now + .seconds(30)
        while true {
            if try await upload()["width"] == 300, let now = served.inspectors.first, now != first { break }
            guard ContinuousClock.now < deadline else { throw HarnessError("no new inspector read a header:\n\(served.process.log)") }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(served.process.log.contains("the inspector process ended"))
        served.process.signal(SIGTERM)
        #expect(await served.process.waitForExit(timeout: .seconds(60)) == 0)
    }

    /// Workers forked from the zygote share the pages the dynamic linker wrote in
    /// their ~225 libraries (shared dirty); a worker started afresh writes its own
    /// (private dirty). After a worker crashes, the zygote is replaced, so the next
    /// workers do not share the crashed one's address-space layout.
    @Test func workersAreForkedFromAZygoteThatACrashReplaces() async throws {
        let served = try Served(configuration: try Self.configuration(), processes: 2, name: "supervised-zygote")
        try await served.waitUntilReady()
        var deadline = ContinuousClock.now + .seconds(30)
        while served.workers.count < 2 || served.inspectors.isEmpty || served.zygotes.count != 1 {
            guard ContinuousClock.now < deadline else {
                throw HarnessError("no zygote, 2 workers and an inspector: \(served.zygotes) \(served.workers) \(served.inspectors)\n\(served.process.log)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let zygote = try #require(served.zygotes.first)
        #expect(Self.threads(zygote) == 1, "the zygote forks, so it must never run a second thread")
        for child in served.workers.union(served.inspectors) {
            let memory = Self.memory(child)
            #expect(memory["Shared_Dirty"] ?? 0 >= 4 << 10, "child \(child) shares the zygote's relocated pages: \(memory)")
            #expect(memory["Private_Dirty"] ?? .max < memory["Shared_Dirty"] ?? 0, "child \(child): \(memory)")
        }
        #expect(Self.commandLine(of: served.inspectors.first!).suffix(2) == ["inspect", "--serve"])

        let crashed = try #require(served.workers.first)
        kill(crashed, SIGSEGV)
        deadline = ContinuousClock.now + .seconds(60)
        while served.workers.count < 2 || served.workers.contains(crashed) || served.zygotes.count != 1 || served.zygotes.contains(zygote) {
            guard ContinuousClock.now < deadline else {
                throw HarnessError("no new zygote and worker after a crash: \(served.zygotes) \(served.workers)\n\(served.process.log)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        // The old zygote is killed and reaped.
        deadline = ContinuousClock.now + .seconds(10)
        while kill(zygote, 0) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(kill(zygote, 0) != 0, "zygote \(zygote) is still there (zombie: \(Self.isZombie(zygote)))")
        let replacement = try #require(served.workers.subtracting([crashed]).first { Self.memory($0)["Shared_Dirty"] ?? 0 >= 4 << 10 })
        #expect(replacement != crashed)
        served.process.signal(SIGTERM)
        #expect(await served.process.waitForExit(timeout: .seconds(60)) == 0)
    }

    static func commandLine(of pid: Int32) -> [String] { Served.commandLine(pid) }

    /// Image URLs render in child processes: a source that crashes one costs that render (503) and nothing else,
    /// and a new child takes the next.
    @Test func anImageURLThatCrashesItsRendererCostsThatRenderAlone() async throws {
        let served = try Served(configuration: try Self.configuration(), processes: 1, name: "supervised-render",
                                environment: ["KILN_RENDER_PROCESSES": "1"])
        try await served.waitUntilReady()
        let uploaded = try await served.request(.POST, "/v1/uploads", body: try Fixture.data("astronaut.jpg"), contentType: "application/octet-stream")
        let media = try #require(try JSONValue.decode(uploaded.body)["id"]?.stringValue)
        func get(_ operations: String) async throws -> (status: Int, body: Data) {
            let path = ImageURLSigner.sign(ImageURLSigner.rest(operations: operations, source: .media(media)), apiKey: served.key)
            return try await served.request(.GET, path, timeout: 60)
        }
        let first = try await get("thumbnail:w=100/encode:f=png")
        #expect(first.status == 200)
        #expect(try Harness.decodeImage(ByteBuffer(data: first.body)).width == 100)
        let before = served.renderers
        #expect(before.count == 1, "one render process: \(before)")

        // A hundred requests at once for a cold URL: one render, as the server's own metrics count it.
        func renders() async throws -> Double {
            let text = String(decoding: try await served.request(.GET, "/metrics").body, as: UTF8.self)
            let line = text.split(separator: "\n").first { $0.hasPrefix("kiln_image_renders_total{") && $0.contains("result=\"ok\"") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }
        let rendersBefore = try await renders()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<100 { group.addTask { try await get("thumbnail:w=200/encode:f=webp").status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        #expect(try await renders() - rendersBefore == 1)

        let crashed = try await get("crash:signal=segv/encode:f=png")
        #expect(crashed.status == 503, "\(String(decoding: crashed.body, as: UTF8.self))")
        #expect(try JSONValue.decode(crashed.body)["error"]?["code"] == "render_unavailable")
        #expect(try await served.request(.GET, "/healthz").status == 200, "the API is untouched")
        // The next render is taken by a new child.
        let after = try await get("thumbnail:w=120/encode:f=png")
        #expect(after.status == 200)
        #expect(try Harness.decodeImage(ByteBuffer(data: after.body)).width == 120)
        #expect(!served.renderers.isEmpty && served.renderers.isDisjoint(with: before), "\(served.renderers) vs \(before)")
        served.process.signal(SIGTERM)
        #expect(await served.process.waitForExit(timeout: .seconds(60)) == 0)
    }

    static func threads(_ pid: Int32) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).count
    }

    /// /proc/<pid>/smaps_rollup's fields, in kB.
    static func memory(_ pid: Int32) -> [String: Int] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8)) ?? ""
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, parts[0].hasSuffix(":"), let value = Int(parts[1]) { fields[String(parts[0].dropLast())] = value }
        }
        return fields
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}
