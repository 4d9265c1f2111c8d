import Logging
import PostgresNIO

/// The one PostgreSQL client of a process, with a pool shaped so that queries
/// keep no memory behind.
///
/// PostgresNIO's pool (1.33.2) arms two timers each time a connection goes back
/// idle, a keep-alive (30 s) and an idle timeout (60 s), as `Task.sleep`s that
/// the next lease cancels. On Linux a cancelled `Task.sleep` keeps its task and
/// dispatch timer alive until the original deadline (swiftlang/swift#60441), so
/// every query left about 1.45 KB behind for a minute: at a few thousand queries
/// a second, hundreds of megabytes. A pool of `size` connections that are all
/// "minimum" connections (no idle timeout) with keep-alive off arms no timer at
/// all. What keep-alive would catch, a connection the server dropped, is caught
/// anyway: the failed query closes it and the pool opens a replacement.
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
