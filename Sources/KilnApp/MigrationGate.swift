import JobStore
import Logging
import ServiceLifecycle

/// Opens once the schema is current. Workers and the HTTP server wait on it,
/// so nothing claims or queries before migrations ran.
actor MigrationGate {
    private var open = false
    private var failure: (any Error)?
    private var waiters: [CheckedContinuation<Void, any Error>] = []

    func wait() async throws {
        if open { return }
        if let failure { throw failure }
        try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    func finish(_ result: Result<Void, any Error>) {
        switch result {
        case .success: open = true
        case let .failure(error): failure = error
        }
        for waiter in waiters { waiter.resume(with: result) }
        waiters.removeAll()
    }
}

/// Runs the migrations as a service (it needs the running PostgreSQL client),
/// then stays up until shutdown so the service group keeps running.
struct MigrationService: Service {
    let migrator: Migrator
    let schema: String?
    let gate: MigrationGate
    let afterwards: @Sendable () async throws -> Void

    func run() async throws {
        do {
            try await migrator.migrate(schema: schema)
            try await afterwards()
            await gate.finish(.success(()))
        } catch {
            await gate.finish(.failure(error))
            throw error
        }
        try? await gracefulShutdown()
    }
}

/// Starts a service only after the gate opens.
struct GatedService: Service {
    let gate: MigrationGate
    let service: any Service

    func run() async throws {
        try await gate.wait()
        try await service.run()
    }
}
