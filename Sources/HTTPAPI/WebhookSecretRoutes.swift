import Crypto
import Foundation
import Hummingbird
import JobStore
import PipelineEngine

/// Each tenant's webhook signing secret (Standard Webhooks, `whsec_`), so no
/// tenant can sign a message that another tenant's receiver accepts.
/// `POST /v1/webhook-secret` makes the tenant's secret and shows it this once;
/// calling it again rotates: the secret before keeps signing beside the new
/// one (both signatures are sent) for `webhookRotationOverlapSeconds`.
/// `GET` tells whether there is one and how the rotation stands, never the secret.
struct WebhookSecretRoutes {
    let environment: APIEnvironment

    func register(on group: RouterGroup<KilnRequestContext>) {
        group.post("webhook-secret") { _, context in
            let tenant = try context.requireTenant()
            let secret = "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
            let secrets = try await environment.store.rotateWebhookSecret(tenant: tenant, secret: secret,
                                                                         overlapSeconds: environment.webhookRotationOverlapSeconds)
            await Audit.record(environment, context, secrets.previous == nil ? "webhook_secret.create" : "webhook_secret.rotate", tenant)
            var body = Self.describe(secrets)
            body["secret"] = .string(secrets.current)
            return JSONResponse.make(JSONValue.object(body), status: .created)
        }
        group.get("webhook-secret") { _, context in
            let tenant = try context.requireTenant()
            guard let secrets = try await environment.store.webhookSecrets(tenant: tenant) else {
                throw APIError(.notFound, code: "not_found",
                               message: "This tenant has no webhook secret; POST /v1/webhook-secret makes one and shows it once")
            }
            return JSONResponse.make(JSONValue.object(Self.describe(secrets)))
        }
    }

    static func describe(_ secrets: TenantWebhookSecrets) -> [String: JSONValue] {
        [
            "createdAt": .string(secrets.createdAt.formatted(.iso8601)),
            "previousSignsUntil": secrets.previousUntil.map { .string($0.formatted(.iso8601)) } ?? .null,
        ]
    }
}
