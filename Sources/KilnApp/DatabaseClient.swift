import Logging
import PostgresNIO

/// The one PostgreSQL client of a process, with a pool shaped around a defect
/// of PostgresNIO's pool (1.33.2): each time a connection goes back idle it
/// arms a keep-alive (30 s) and an idle-timeout (60 s) timer as `Task.sleep`s
/// that the next lease cancels. On Linux a cancelled `Task.sleep` keeps its
/// task and dispatch timer alive until the original deadline
/// (swiftlang/swift#60441): about 1.45 KB per query kept for a minute, and
/// with many of them pending, test runs whose sleeps stopped waking up. A pool
/// of `size` connections that are all "minimum" connections (no idle timeout)
/// with keep-alive off arms no timer at all.
///
/// Known and left for a pool of Kiln's own: with a minimum, a lease that meets
/// a connection being closed after an error (a database restart) can trip a
/// precondition in the pool (`minimumConcurrentConnections <= stats.active` in
/// `createNewDemandConnectionIfPossible`) and end the process.
public enum DatabaseClient {
    public static func make(url: String, schema: String?, poolSize: Int, logger: Logger, upstreamDefaults: Bool = false) throws -> PostgresClient {
        var configuration = try DatabaseURL.configuration(url, schema: schema)
        // Kept for `kiln-soak --upstream-defaults`, which shows what the shaping avoids.
        if upstreamDefaults { return PostgresClient(configuration: configuration, backgroundLogger: logger) }
        configuration.options.minimumConnections = poolSize
        configuration.options.maximumConnections = poolSize
        configuration.options.keepAliveBehavior = nil
        return PostgresClient(configuration: configuration, backgroundLogger: logger)
    }
}
