import HTTPAPI
import JobStore
import Logging
import ServiceLifecycle

/// Pings PostgreSQL every second and tells `Readiness`, so that while the
/// database is away `/healthz` says so and API calls get 503 at once; the
/// pool reconnects by itself (with backoff) and readiness follows it back.
struct DatabaseWatch: Service {
    let store: JobStore
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let up = await store.ping()
            if up != readiness.isDatabaseReachable {
                readiness.setDatabaseReachable(up)
                if up { logger.notice("database reachable again") } else { logger.warning("database unreachable; answering 503 until it is back") }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
