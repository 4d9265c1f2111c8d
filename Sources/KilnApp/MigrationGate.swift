import HTTPAPI
import JobStore
import Logging
import PostgresNIO
import ServiceLifecycle

/// Opens once the schema is current. Workers wait on it, so nothing claims
/// before migrations ran.
actor MigrationGate {
    private var open = false

    /// Polls rather than parking a continuation, so a shutdown (task
    /// cancellation) while the database is still unreachable ends the wait.
    func wait() async throws {
        while !open { try await Task.sleep(for: .milliseconds(50)) }
    }

    func markOpen() { open = true }
}

/// Runs the migrations as a service (it needs the running PostgreSQL client),
/// retrying while the database is unreachable, then stays up until shutdown
/// so the service group keeps running.
struct MigrationService: Service {
    let migrator: Migrator
    let schema: String?
    let gate: MigrationGate
    let logger: Logger
    let afterwards: @Sendable () async throws -> Void

    func run() async throws {
        do {
            try await migrateWhenReachable()
        } catch is CancellationError {
            return  // shut down before the database came back
        }
        try? await gracefulShutdown()
    }

    private func migrateWhenReachable() async throws {
        try await cancelWhenGracefulShutdown {
            var delay = 0.5
            while true {
                do {
                    try await migrator.migrate(schema: schema)
                    try await afterwards()
                    break
                } catch where Self.isUnreachable(error) {
                    logger.warning("database unreachable; retrying", metadata: ["error": "\(String(describing: error))", "retryIn": "\(delay)"])
                    try await Task.sleep(for: .seconds(delay))
                    delay = min(delay * 2, 10)
                }
            }
            await gate.markOpen()
        }
    }

    /// A server that answered with an error (bad SQL, no permission) will not
    /// fix itself: that fails start-up. Anything else is worth a retry.
    /// Besides what the store counts as unavailable, it was the pool's own fast refusal
    /// ("the last connect failed moments ago") that this missed: under load a start-up
    /// met it, failed, and the process stopped (seen as a reset connection in a test).
    static func isUnreachable(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.code != .server || JobStore.isUnavailable(error) }
        if let error = error as? PostgresTransactionError {
            return [error.beginError, error.closureError, error.commitError].compactMap { $0 }.allSatisfy(isUnreachable)
        }
        return JobStore.isUnavailable(error)
    }
}

/// Starts a service only after the gate opens.
struct GatedService: Service {
    let gate: MigrationGate
    let service: any Service

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await gate.wait() }
        } catch is CancellationError {
            return
        }
        try await service.run()
    }
}

/// Keeps the image URL result cache's index current and within its budget, until shutdown.
struct ImageCacheMaintenance: Service {
    let cache: ImageResultCache

    func run() async throws {
        await cancelWhenGracefulShutdown { await cache.maintain() }
    }
}
