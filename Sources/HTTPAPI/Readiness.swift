import Hummingbird
import Synchronization

/// Whether the service can take API calls: false until the schema is current
/// and the API keys are loaded. The HTTP server starts before that (so health
/// checks answer 503 rather than connection refused while PostgreSQL is down).
public final class Readiness: Sendable {
    private let ready = Atomic<Bool>(false)

    public init() {}

    public func markReady() { ready.store(true, ordering: .releasing) }

    public var isReady: Bool { ready.load(ordering: .acquiring) }
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
