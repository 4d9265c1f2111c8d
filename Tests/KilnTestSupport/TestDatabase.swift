import Foundation
import JobRunner
import KilnApp
import Logging
import Storage

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
        var configuration = KilnConfiguration(
            // Tests run in parallel, each with its own Kiln: small pools keep them under max_connections.
            databaseURL: url, databaseSchema: uniqueSchema(), databasePoolSize: 4, storageRoot: root + "/storage", apiKeys: apiKeys,
            host: "127.0.0.1", port: 0, publicURL: "http://kiln.test", pipelinesDirectory: Fixture.repositoryRoot + "/Pipelines",
            worker: workerConfiguration)
        // The test client keeps one connection and does not reconnect when the server closes it:
        // a test that waits a while between requests must find it open.
        configuration.connectionDeadlines.headSeconds = 3600
        return configuration
    }

    /// The same configuration with its outputs and uploads in a fresh bucket on the
    /// S3 server `make test` starts (moto, signatures checked); the bucket is created.
    public static func s3Configuration(apiKeys: String = "tenant-a:key-a,tenant-b:key-b", worker: WorkerConfiguration? = nil) async throws -> KilnConfiguration {
        var configuration = try configuration(apiKeys: apiKeys, worker: worker)
        let location = try s3Location()
        configuration.s3 = location
        configuration.storageRoot = (configuration.storageRoot as NSString).deletingLastPathComponent + "/staging"
        try await S3BlobStore(location: location, stagingDirectory: configuration.storageRoot).createBucketIfMissing()
        return configuration
    }

    /// A fresh bucket (under a key prefix, so prefixes are exercised too) on the test S3 server;
    /// `secret` replaces the real secret key, for tests of refused signatures.
    public static func s3Location(bucket: String = "kiln-test-" + UUID().uuidString.prefix(8).lowercased(), secret: String? = nil) throws -> S3Location {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["KILN_TEST_S3_ENDPOINT"], let key = env["KILN_TEST_S3_ACCESS_KEY_ID"],
              let secretKey = env["KILN_TEST_S3_SECRET_ACCESS_KEY"] else { throw MissingS3() }
        return try S3Location.parse("s3://\(bucket)/under/a-prefix", environment: [
            "S3_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret ?? secretKey, "AWS_REGION": "us-east-1",
        ])
    }

    public struct MissingS3: Error, CustomStringConvertible {
        public var description: String { "KILN_TEST_S3_ENDPOINT is not set; run the suite with `make test` (it starts an S3 server)" }
    }

    public struct MissingDatabase: Error, CustomStringConvertible {
        public var description: String { "KILN_TEST_DATABASE_URL is not set; run the suite with `make test`" }
    }
}
