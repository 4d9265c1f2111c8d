import Foundation
import JobStore
import KilnApp
import KilnTestSupport
import Logging
import PostgresNIO
import Testing

/// Kiln's own connection pool against the test PostgreSQL: its bound, its
/// fast failure while the server is away, and its recovery from a dead connection.
@Suite(.ownThreads) struct DatabasePoolTests {
    func withPool<T: Sendable>(size: Int, url: String? = nil, _ body: @Sendable (DatabasePool) async throws -> T) async throws -> T {
        let url = try #require(url ?? TestEnvironment.databaseURL, "run with `make test`")
        let pool = try DatabaseClient.make(url: url, schema: nil, poolSize: size, logger: TestEnvironment.logger())
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await pool.run(); return nil }
            defer { group.cancelAll() }
            return try await body(pool)
        }
    }

    @Test func neverOpensMoreThanItsSize() async throws {
        try await withPool(size: 3) { pool in
            // 40 queries at once, each holding its connection 20 ms: they queue for the three.
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        for try await pid in try await pool.query("SELECT pg_backend_pid() FROM pg_sleep(0.02)", logger: TestEnvironment.logger()).decode(Int32.self) {
                            return pid
                        }
                        return 0
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect((1...3).contains(pids.count), "backends used: \(pids)")
        }
    }

    @Test func failsFastWhileTheServerIsAway() async throws {
        // A port where nothing listens. The first lease tries and fails (unavailable: a 503, a worker's
        // backoff); the leases after it, within the retry window, fail without trying again.
        let configuration = PostgresConnection.Configuration(host: "127.0.0.1", port: 9, username: "kiln", password: nil, database: "kiln", tls: .disable)
        let pool = DatabasePool(configuration: configuration, size: 2, logger: TestEnvironment.logger(), retryAfterFailure: .seconds(60))
        do {
            try await pool.query("SELECT 1", logger: TestEnvironment.logger())
            Issue.record("a query succeeded with no server")
        } catch {
            #expect(JobStore.isUnavailable(error), "\(String(reflecting: error))")
            #expect(!(error is DatabasePool.PoolError), "the first lease tried to connect: \(error)")
        }
        for _ in 0..<20 {
            do {
                try await pool.query("SELECT 1", logger: TestEnvironment.logger())
                Issue.record("a query succeeded with no server")
            } catch {
                guard case DatabasePool.PoolError.unavailable = error else {
                    Issue.record("expected the fast failure, got \(error)")
                    continue
                }
                #expect(JobStore.isUnavailable(error))
            }
        }
        pool.close()
    }

    @Test func aConnectionTheServerEndedIsReplaced() async throws {
        try await withPool(size: 1) { pool in
            let logger = TestEnvironment.logger()
            func backend() async throws -> Int32? {
                for try await pid in try await pool.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self) { return pid }
                return nil
            }
            let first = try #require(try await backend())
            // Ended from another connection, as a server restart or an administrator would.
            try await pool.withDedicatedConnection { connection in
                try await connection.query("SELECT pg_terminate_backend(\(first))", logger: logger)
            }
            // At most the query that meets the dead connection fails; the pool then opens a new one.
            var second = try? await backend()
            if second == nil {
                try await Task.sleep(for: .milliseconds(300))
                second = try await backend()
            }
            #expect(second != nil && second != first)
        }
    }

    @Test func aCancelledWaiterLeavesThePoolWhole() async throws {
        try await withPool(size: 1) { pool in
            let logger = TestEnvironment.logger()
            // The holder takes the one connection for 5 s; the waiter queues behind it and is cancelled.
            // Started only once the server runs the holder's sleep: under a full suite's load, 500 ms
            // was once not enough for the holder to connect, and the waiter took the connection first.
            let holder = Task { try await pool.query("SELECT pg_sleep(5)", logger: logger) }
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                let sleeping = try await pool.withDedicatedConnection { connection in
                    try await connection.query("SELECT count(*)::int FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(5)' AND state = 'active'",
                                               logger: logger).decode(Int.self).reduce(0, +)
                }
                if sleeping > 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let waiter = Task { try await pool.query("SELECT 1", logger: logger) }
            try await Task.sleep(for: .milliseconds(200))
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            _ = try await holder.value
            // The one connection went back: the next query gets it.
            #expect(try await pool.query("SELECT 1", logger: logger).rows.count == 1)
        }
    }
}
