import Hummingbird
import Synchronization

/// Whether the service can take API calls: false until the schema is current
/// and the API keys are loaded. The HTTP server starts before that (so health
/// checks answer 503 rather than connection refused while PostgreSQL is down).
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)
    private let reachable = Atomic<Bool>(true)

    public init() {}

    public func markReady() { ready.store(true, ordering: .releasing) }

    /// Set by the database watch: while PostgreSQL does not answer, calls get
    /// 503 at once instead of waiting for a connection that will not come.
    public func setDatabaseReachable(_ value: Bool) { reachable.store(value, ordering: .releasing) }

    public var isDatabaseReachable: Bool { reachable.load(ordering: .acquiring) }

    /// Migrations applied and keys loaded.
    public var isSchemaReady: Bool { ready.load(ordering: .acquiring) }

    public var isReady: Bool { isSchemaReady && isDatabaseReachable }
}

/// Answers `/v1` calls with 503 until the service is ready.
struct ReadinessMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let readiness: Readiness

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard readiness.isReady else {
            var error = APIError(.serviceUnavailable, code: "not_ready", message: "Kiln is starting or cannot reach its database; retry shortly")
            error.headers[.retryAfter] = "2"
            throw error
        }
        return try await next(request, context)
    }
}
