import JobStore
import Logging
import PostgresNIO
import ServiceLifecycle

/// The one database pool of a process, configured from `DATABASE_URL`.
public enum DatabaseClient {
    public static func make(url: String, schema: String?, poolSize: Int, logger: Logger) throws -> DatabasePool {
        DatabasePool(configuration: try DatabaseURL.configuration(url, schema: schema), size: poolSize, logger: logger)
    }
}

extension DatabasePool: Service {}
