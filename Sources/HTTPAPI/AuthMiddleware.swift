import Foundation
import Hummingbird
import JobStore
import Metrics
import Synchronization

/// Requires `Authorization: Bearer <key>`, records the key's tenant and
/// public id, and holds each key to its rate limit.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = KilnRequestContext
    let keys: APIKeyRing
    let limiter: RateLimiter?
    /// Where failures are audited (operators read them under tenant `*`).
    let store: JobStore?
    let failures = AuthFailures()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
              let tenant = keys.tenant(for: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)) else {
            let presented = request.headers[.authorization].map { String($0.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            await failures.record(presented: presented, context: context, store: store)
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

/// Failed authentications: counted (`kiln_auth_failures_total`), logged, and
/// audited under tenant `*` with the presented key's public id and the client
/// address, at most once a minute per address, so a flood of bad keys cannot
/// flood the audit log.
final class AuthFailures: Sendable {
    private let lastAudited = Mutex<[String: ContinuousClock.Instant]>([:])

    func record(presented: String?, context: KilnRequestContext, store: JobStore?) async {
        let reason = presented.map { $0.isEmpty ? "missing" : "unknown_key" } ?? "missing"
        Counter(label: "kiln_auth_failures_total", dimensions: [("reason", reason)]).increment()
        let client = context.clientAddress ?? "unknown"
        let now = ContinuousClock.now
        let due = lastAudited.withLock { last -> Bool in
            if last.count > 10_000 { last = last.filter { now - $0.value < .seconds(60) } }
            if let previous = last[client], now - previous < .seconds(60) { return false }
            last[client] = now
            return true
        }
        guard due, let store else { return }
        context.logger.warning("authentication failed", metadata: ["client": .string(client), "reason": .string(reason)])
        let keyID = presented.flatMap { $0.isEmpty ? nil : APIKeys.keyID($0) }
        try? await store.recordAudit(AuditEntry(tenant: "*", keyID: keyID, action: "auth.failure", object: reason, client: client))
    }
}
