import Foundation
import Logging
import PipelineEngine
import PostgresNIO

/// All persistent state of Kiln, in PostgreSQL: media, jobs (which are also the
/// queue) and settings. Every query binds its values; none concatenates input.
public struct JobStore: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// NOTIFY channel that wakes idle workers when a job becomes claimable.
    public let channel: String

    public init(client: PostgresClient, logger: Logger, channel: String = "kiln_jobs") {
        self.client = client
        self.logger = logger
        self.channel = channel
    }

    /// Readiness: whether the database answers.
    public func ping() async -> Bool {
        do {
            try await withTimeout(seconds: 2) {
                try await client.query("SELECT 1", logger: logger)
            }
            return true
        } catch {
            return false
        }
    }

    public func setting(_ key: String) async throws -> String? {
        let rows = try await client.query("SELECT value FROM settings WHERE key = \(key)", logger: logger)
        for try await value in rows.decode(String.self) { return value }
        return nil
    }

    /// Stores `value` unless the key exists; returns the value that won.
    public func settingInsertIfAbsent(_ key: String, value: String) async throws -> String {
        try await client.query("INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO NOTHING", logger: logger)
        return try await setting(key) ?? value
    }
}

/// Runs `body`, throwing if it takes longer than `seconds`.
func withTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            throw CancellationError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
