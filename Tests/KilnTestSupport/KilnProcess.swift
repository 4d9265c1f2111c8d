import Foundation
import KilnApp

/// A real `kiln` process (the binary `swift build` made beside the tests),
/// configured like `configuration`, for tests that kill, pause and terminate it.
public final class KilnProcess: @unchecked Sendable {
    public let name: String
    public let process: Process
    /// Where its standard error (the log) goes, for a failing test to show.
    public let logPath: String

    /// The `kiln` executable next to the test bundle.
    public static var binary: String {
        let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [directory.appendingPathComponent("kiln").path,
                          Fixture.repositoryRoot + "/.build/debug/kiln"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The environment `kiln` reads for `configuration`, with fast reaping and polling for tests.
    public static func environment(_ configuration: KilnConfiguration, name: String) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["DATABASE_URL"] = configuration.databaseURL
        env["KILN_DATABASE_SCHEMA"] = configuration.databaseSchema
        env["KILN_STORAGE"] = configuration.storageRoot
        if let s3 = configuration.s3 {
            env["KILN_STORAGE"] = s3.url
            env["KILN_STAGING_DIR"] = configuration.storageRoot + "/" + name
            env["S3_ENDPOINT"] = s3.endpoint
            env["AWS_ACCESS_KEY_ID"] = s3.credentials.accessKeyID
            env["AWS_SECRET_ACCESS_KEY"] = s3.credentials.secretAccessKey
            env["AWS_REGION"] = s3.region
        }
        env["KILN_SCRATCH_DIR"] = configuration.worker.scratchDirectory + "/" + name
        env["KILN_API_KEYS"] = configuration.apiKeys
        env["KILN_PIPELINES_DIR"] = configuration.pipelinesDirectory
        env["KILN_LEASE_SECONDS"] = "\(configuration.worker.leaseSeconds)"
        env["KILN_DRAIN_SECONDS"] = "\(configuration.worker.drainSeconds)"
        env["KILN_REAP_SECONDS"] = "0.5"
        env["KILN_POLL_SECONDS"] = "0.5"
        env["KILN_WORKER_CONCURRENCY"] = "\(configuration.worker.concurrency)"
        env["KILN_DB_POOL_SIZE"] = "4"
        env["KILN_WEBHOOK_SECRET"] = configuration.webhookSecret
        env["KILN_WEBHOOK_URL"] = configuration.webhookURL
        env["KILN_WEBHOOK_ALLOWED_NETWORKS"] = configuration.webhooks.egress.allowedNetworks.map(\.description).joined(separator: ",")
        env["KILN_WEBHOOK_RETRY_SECONDS"] = configuration.webhooks.retrySeconds.map { "\($0)" }.joined(separator: ",")
        env["KILN_HTTP_HEAD_TIMEOUT_SECONDS"] = "\(configuration.connectionDeadlines.headSeconds)"
        env["LOG_LEVEL"] = env["LOG_LEVEL"] ?? "info"
        return env
    }

    /// Starts `kiln <arguments>` (`worker`, `serve --no-workers`, or `serve` with its supervised workers);
    /// `environment` adds to or overrides what `configuration` sets.
    public init(_ arguments: [String] = ["worker"], configuration: KilnConfiguration, name: String,
                environment: [String: String] = [:]) throws {
        self.name = name
        logPath = NSTemporaryDirectory() + "kiln-\(name)-\(UUID().uuidString).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = Self.environment(configuration, name: name).merging(environment) { $1 }
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit; its status, or nil if it still runs after `timeout`.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }
}
