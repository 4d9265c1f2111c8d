import Logging
import PostgresNIO

/// The one PostgreSQL client of a process, with a pool shaped around two
/// defects of PostgresNIO's pool (1.33.2):
///
/// - Each time a connection goes back idle the pool arms a keep-alive (30 s)
///   and an idle-timeout (60 s) timer as `Task.sleep`s that the next lease
///   cancels. On Linux a cancelled `Task.sleep` keeps its task and dispatch
///   timer alive until the original deadline (swiftlang/swift#60441): about
///   1.45 KB per query kept for a minute, hundreds of megabytes at a few
///   thousand queries a second.
/// - With `minimumConnections` > 0, a lease that arrives while a connection is
///   being closed after an error (a database restart) trips a precondition in
///   the pool (`minimumConcurrentConnections <= stats.active` in
///   `createNewDemandConnectionIfPossible`: closing connections count toward
///   the minimum in one place and not in the other) and the process crashes.
///
/// So: no minimum (no crash), keep-alive off (a dropped connection is caught
/// by the failing query, which closes it), and a 2 s idle timeout, which bounds
/// what the timers keep to rate × 2 s × 1.45 KB (about 12 MB at 4,000 queries
/// a second) at the price of reconnecting after two idle seconds.
public enum DatabaseClient {
    public static func make(url: String, schema: String?, poolSize: Int, logger: Logger, upstreamDefaults: Bool = false) throws -> PostgresClient {
        var configuration = try DatabaseURL.configuration(url, schema: schema)
        // Kept for `kiln-soak --upstream-defaults`, which shows what the shaping avoids.
        if upstreamDefaults { return PostgresClient(configuration: configuration, backgroundLogger: logger) }
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = poolSize
        configuration.options.connectionIdleTimeout = .seconds(2)
        configuration.options.keepAliveBehavior = nil
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}
