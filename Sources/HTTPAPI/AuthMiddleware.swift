import Hummingbird

/// Requires `Authorization: Bearer <key>`, records the key's tenant and
/// public id, and holds each key to its rate limit.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let keys: APIKeyRing
    let limiter: RateLimiter?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
              let tenant = keys.tenant(for: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) else {
            var error = APIError.unauthorized
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        let presented = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        let keyID = APIKeys.keyID(presented)
        if let limiter, let wait = limiter.take(keyID) {
            let seconds = Int(wait.rounded(.up))
            var error = APIError(.tooManyRequests, code: "rate_limited", message: "Too many requests for this API key; retry in \(seconds) s")
            error.headers[.retryAfter] = String(max(1, seconds))
            throw error
        }
        var context = context
        context.tenant = tenant
        context.keyID = keyID
        context.logger[metadataKey: "tenant"] = .string(tenant)
        return try await next(request, context)
    }
}

import Foundation
