import Synchronization
import Foundation
import Logging
import PipelineEngine
import PostgresNIO

/// All persistent state of Kiln, in PostgreSQL: media, jobs (which are also the
/// queue) and settings. Every query binds its values; none concatenates input.
public struct JobStore: Sendable {
    public let client: DatabasePool
    let logger: Logger
    /// NOTIFY channel that wakes idle workers when a job becomes claimable.
    public let channel: String
    /// The schema the tables live in (nil: `public`); names the events channel.
    public let schema: String?

    public init(client: DatabasePool, logger: Logger, channel: String = "kiln_jobs", schema: String? = nil) {
        self.client = client
        self.logger = logger
        self.channel = channel
        self.schema = schema
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

/// Runs `body`, throwing once `seconds` pass. Answers at the deadline even if
/// `body` ignores cancellation (a query waiting for a pool connection while the
/// database is down): a task group would wait for it, so the work runs in a
/// task of its own, cancelled and left to finish on its own.
func withTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let answered = AnsweredOnce()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let claim = { @Sendable in answered.claim() }
        let work = Task {
            do {
                let value = try await body()
                if claim() { continuation.resume(returning: value) }
            } catch {
                if claim() { continuation.resume(throwing: error) }
            }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            if claim() {
                continuation.resume(throwing: CancellationError())
                work.cancel()
            }
        }
    }
}

/// The first of two racing tasks to claim it answers.
private final class AnsweredOnce: Sendable {
    private let answered = Mutex(false)

    func claim() -> Bool {
        answered.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
