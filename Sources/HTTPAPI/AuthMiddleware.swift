import Hummingbird

/// Requires `Authorization: Bearer <key>` and records the key's tenant.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let keys: APIKeyRing

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
              let tenant = keys.tenant(for: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) else {
            var error = APIError.unauthorized
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        var context = context
        context.tenant = tenant
        context.logger[metadataKey: "tenant"] = .string(tenant)
        return try await next(request, context)
    }
}

import Foundation
