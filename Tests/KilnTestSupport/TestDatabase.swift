import Foundation
import JobRunner
import KilnApp
import Logging

/// Settings for tests that need PostgreSQL. `make test` starts a throwaway
/// cluster and exports `KILN_TEST_DATABASE_URL`; each test gets its own schema
/// (and so its own tables, queue and NOTIFY channel) and its own storage dir.
public enum TestEnvironment {
    public static var databaseURL: String? { ProcessInfo.processInfo.environment["KILN_TEST_DATABASE_URL"] }

    public static func uniqueSchema() -> String {
        "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    }

    public static func logger(_ label: String = "kiln.test") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return logger
    }

    /// A configuration on a fresh schema and storage directory, HTTP on an ephemeral port.
    public static func configuration(apiKeys: String = "tenant-a:key-a,tenant-b:key-b", worker: WorkerConfiguration? = nil) throws -> KilnConfiguration {
        guard let url = databaseURL else { throw MissingDatabase() }
        let root = NSTemporaryDirectory() + "kiln-test-" + UUID().uuidString
        var workerConfiguration = worker ?? WorkerConfiguration(concurrency: 2, leaseSeconds: 10, heartbeatSeconds: 2, pollSeconds: 0.5, reapSeconds: 1)
        workerConfiguration.scratchDirectory = root + "/scratch"
        return KilnConfiguration(
            // Tests run in parallel, each with its own Kiln: small pools keep them under max_connections.
            databaseURL: url, databaseSchema: uniqueSchema(), databasePoolSize: 4, storageRoot: root + "/storage", apiKeys: apiKeys,
            host: "127.0.0.1", port: 0, publicURL: "http://kiln.test", pipelinesDirectory: Fixture.repositoryRoot + "/Pipelines",
            worker: workerConfiguration)
    }

    public struct MissingDatabase: Error, CustomStringConvertible {
        public var description: String { "KILN_TEST_DATABASE_URL is not set; run the suite with `make test`" }
    }
}
