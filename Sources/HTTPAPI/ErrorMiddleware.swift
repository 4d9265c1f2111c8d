import Hummingbird
import JobStore
import Logging

/// Turns every error into SPEC's JSON error shape with the right status,
/// unknown routes included. Anything unexpected is a 500 with a logged cause
/// and a message that leaks nothing.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let routes: RouteIndex

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let error as HTTPError {
            // A known path with another method: 405 and Allow, not 404.
            let allowed = error.status == .notFound ? routes.methods(matching: request.uri.path) : []
            if !allowed.isEmpty {
                var response = APIError(.methodNotAllowed, code: "method_not_allowed",
                                        message: "\(request.method) is not allowed here; use \(allowed.joined(separator: ", "))").response()
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            let code: String = switch error.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "too_large"
            case .badRequest: "bad_request"
            case .unauthorized: "unauthorized"
            default: "http_\(error.status.code)"
            }
            let message = error.body ?? (error.status == .notFound ? "No route for \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return APIError(error.status, code: code, message: message).response()
        } catch where JobStore.isUnavailable(error) {
            // PostgreSQL is down or restarting: nothing was accepted; the client may retry.
            context.logger.warning("database unavailable", metadata: ["error": "\(error)"])
            var unavailable = APIError(.serviceUnavailable, code: "database_unavailable", message: "The database cannot be reached; retry shortly")
            unavailable.headers[.retryAfter] = "2"
            return unavailable.response()
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, code: "internal", message: "Internal error; see the server log").response()
        }
    }
}
