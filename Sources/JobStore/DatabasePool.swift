import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Kiln's PostgreSQL connections: at most `size`, opened when a query needs
/// one, handed back after it, closed and replaced once they fail. It arms no
/// timer and runs no background task.
///
/// Why not PostgresNIO's `PostgresClient`: its pool (1.33.2) arms keep-alive
/// and idle-timeout `Task.sleep`s every time a connection goes idle, and on
/// Linux a cancelled sleep lives until its deadline (a leak of ~1.5 KB per
/// query, and test runs whose sleeps stopped waking); with minimum
/// connections instead, a database restart can trip a precondition in it and
/// end the process. Kiln's needs are simple (short queries, a few LISTENs), so
/// a small pool it can reason about is worth more than a general one.
///
/// While the database is away a lease fails fast: a refused connect is
/// answered at once, and for `retryAfterFailure` after one, leases fail without
/// trying again, so callers (HTTP handlers, workers' backoff) never pile up
/// behind a connect timeout.
public final class DatabasePool: Sendable {
    public let configuration: PostgresConnection.Configuration
    public let size: Int
    let logger: Logger
    let retryAfterFailure: Duration
    private let state: Mutex<State>
    private let eventLoopGroup: any EventLoopGroup

    private struct State {
        var idle: [PostgresConnection] = []
        /// Connections open or being opened, leased or idle.
        var open = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Grant, any Error>)] = []
        var nextID = 0
        var lastConnectFailure: ContinuousClock.Instant?
        var lastConnectError = ""
        var closed = false
        var shutdown: CheckedContinuation<Void, Never>?
    }

    /// What a waiting lease is given: a connection, or room to open one.
    private enum Grant: @unchecked Sendable {
        case connection(PostgresConnection)
        case open
    }

    public enum PoolError: Error, CustomStringConvertible {
        /// The last connect failed moments ago; not tried again yet.
        case unavailable(lastError: String)
        case closed

        public var description: String {
            switch self {
            case .unavailable(let error): "database unavailable (last connect: \(error))"
            case .closed: "database pool closed"
            }
        }
    }

    public init(configuration: PostgresConnection.Configuration, size: Int, logger: Logger,
                retryAfterFailure: Duration = .milliseconds(250),
                eventLoopGroup: any EventLoopGroup = PostgresConnection.defaultEventLoopGroup) {
        self.configuration = configuration
        self.size = max(1, size)
        self.logger = logger
        self.retryAfterFailure = retryAfterFailure
        self.eventLoopGroup = eventLoopGroup
        state = Mutex(State())
    }

    // MARK: Queries

    /// Runs `query` and returns its rows, read in full before the connection goes back.
    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> QueryRows {
        try await withConnection { connection in
            QueryRows(rows: try await connection.query(query, logger: logger, file: file, line: line).collect())
        }
    }

    /// Runs a named prepared statement (prepared once per connection) and collects its rows.
    public func execute<Statement: PostgresPreparedStatement>(_ statement: Statement, logger: Logger) async throws -> [Statement.Row]
        where Statement.Row: Sendable {
        try await withConnection { connection in
            var rows: [Statement.Row] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// Lends a pooled connection to `body`; a connection that closed meanwhile is dropped, not reused.
    public func withConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection = try await lease()
        do {
            let result = try await body(connection)
            giveBack(connection)
            return result
        } catch {
            giveBack(connection)
            throw error
        }
    }

    /// BEGIN, `body`, COMMIT (ROLLBACK when `body` throws, which rethrows its own error).
    public func withTransaction<Result: Sendable>(logger: Logger, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            let result: Result
            do {
                result = try await body(connection)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            try await connection.query("COMMIT", logger: logger)
            return result
        }
    }

    /// A connection of its own for `body`, outside the pool's count (a
    /// LISTEN held for a process's life must not take a query's place); closed after.
    public func withDedicatedConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let connection = try await connect()
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    // MARK: Lifecycle

    /// Holds the pool open until the task is cancelled or a graceful shutdown
    /// begins, then closes every connection; later leases fail with `.closed`.
    public func run() async {
        await cancelWhenGracefulShutdown {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = self.state.withLock { state -> Bool in
                        if state.closed { return true }
                        state.shutdown = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                self.close()
            }
        }
        let idle = state.withLock { state in
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle { try? await connection.close() }
    }

    /// Stops leasing: waiters fail, idle connections close as `run` ends.
    public func close() {
        let (waiters, shutdown) = state.withLock { state in
            state.closed = true
            defer { state.waiters = []; state.shutdown = nil }
            return (state.waiters, state.shutdown)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: PoolError.closed) }
        shutdown?.resume()
    }

    // MARK: Leasing

    private enum Decision {
        case use(PostgresConnection)
        case open
        case fail(any Error)
        case wait
    }

    private func lease() async throws -> PostgresConnection {
        var stale: [PostgresConnection] = []
        let decision = state.withLock { state -> Decision in
            if state.closed { return .fail(PoolError.closed) }
            while let connection = state.idle.popLast() {
                if !connection.isClosed { return .use(connection) }
                stale.append(connection)
                state.open -= 1
            }
            if state.open < size {
                if let failure = state.lastConnectFailure, ContinuousClock.now - failure < retryAfterFailure {
                    return .fail(PoolError.unavailable(lastError: state.lastConnectError))
                }
                state.open += 1
                return .open
            }
            return .wait
        }
        for connection in stale { Self.discard(connection) }
        switch decision {
        case .use(let connection): return connection
        case .fail(let error): throw error
        case .open: return try await openReserved()
        case .wait:
            switch try await waitForGrant() {
            case .connection(let connection): return connection
            case .open: return try await openReserved()
            }
        }
    }

    /// Opens a connection into a place already counted in `open`; gives the place back on failure.
    private func openReserved() async throws -> PostgresConnection {
        do {
            let connection = try await connect()
            state.withLock { $0.lastConnectFailure = nil }
            return connection
        } catch {
            state.withLock { state in
                state.lastConnectFailure = .now
                state.lastConnectError = "\(error)"
            }
            releasePlace()
            throw error
        }
    }

    private func connect() async throws -> PostgresConnection {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await PostgresConnection.connect(on: eventLoopGroup.any(), configuration: configuration, id: id, logger: logger)
    }

    private func waitForGrant() async throws -> Grant {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Grant, any Error>) in
                let refused: (any Error)? = state.withLock { state in
                    if state.closed { return PoolError.closed }
                    if Task.isCancelled { return CancellationError() }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let refused { continuation.resume(throwing: refused) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Grant, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// A connection back from a lease: to the first waiter, else idle; a closed one frees its place.
    private func giveBack(_ connection: PostgresConnection) {
        if connection.isClosed {
            Self.discard(connection)
            releasePlace()
            return
        }
        enum Next { case waiter(CheckedContinuation<Grant, any Error>), idle, close }
        let next = state.withLock { state -> Next in
            if state.closed {
                state.open -= 1
                return .close
            }
            if !state.waiters.isEmpty { return .waiter(state.waiters.removeFirst().continuation) }
            state.idle.append(connection)
            return .idle
        }
        switch next {
        case .waiter(let waiter): waiter.resume(returning: .connection(connection))
        case .close: Self.discard(connection)
        case .idle: break
        }
    }

    /// Closes a connection that leaves the pool. The closure holds it until the
    /// channel is closed: PostgresNIO asserts that no connection is freed open.
    private static func discard(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// A place no connection holds any more: a waiter may open one there.
    private func releasePlace() {
        let waiter = state.withLock { state -> CheckedContinuation<Grant, any Error>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst().continuation }
            state.open -= 1
            return nil
        }
        waiter?.resume(returning: .open)
    }
}

/// A query's rows, read in full; iterates and decodes like PostgresNIO's row sequence.
public struct QueryRows: AsyncSequence, Sendable {
    public typealias Element = PostgresRow
    public let rows: [PostgresRow]

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[PostgresRow]>
        public mutating func next() async -> PostgresRow? { base.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator()) }
}
