import Foundation
import Hummingbird
import JobStore
import PipelineEngine

/// Signed, expiring URLs that need no key, to hand to a browser or another
/// service: `POST /v1/media/{id}/links` for an upload's bytes (served at
/// `GET /links/{token}`), `POST /v1/jobs/{id}/links` for a job's files (served
/// under `/play/{token}/`). Tokens are checked like playback tokens: a forged,
/// altered or expired one gets 403.
struct LinkRoutes {
    let environment: APIEnvironment
    static let defaultLifetime = 3600
    static let lifetimes = 60...(7 * 24 * 3600)

    func register(on group: RouterGroup<KilnRequestContext>, router: Router<KilnRequestContext>) {
        group.post("media/:id/links") { request, context in
            let tenant = try context.requireTenant()
            let id = try context.parameters.require("id")
            guard Identifier.isValid(id, prefix: "med") else { throw APIError.notFound("Media") }
            guard try await environment.media(id: id, tenant: tenant) != nil else { throw await environment.absence("Media", id: id, tenant: tenant) }
            let (token, expires) = try await sign(tenant: tenant, subject: id, request: request, context: context)
            await Audit.record(environment, context, "media.link", id, detail: ["expiresAt": .string(Self.timestamp(expires))])
            return JSONResponse.make(JSONValue.object(["url": .string(environment.publicURL + "/links/" + token), "expiresAt": .string(Self.timestamp(expires))]),
                                     status: .created)
        }
        group.post("jobs/:id/links") { request, context in
            let tenant = try context.requireTenant()
            let id = try context.parameters.require("id")
            guard Identifier.isValid(id, prefix: "job") else { throw APIError.notFound("Job") }
            guard let job = try await environment.store.job(id: id, tenant: tenant) else { throw await environment.absence("Job", id: id, tenant: tenant) }
            let (token, expires) = try await sign(tenant: tenant, subject: id, request: request, context: context)
            let base = environment.publicURL + "/play/" + token
            await Audit.record(environment, context, "job.link", id, detail: ["expiresAt": .string(Self.timestamp(expires))])
            let files: [JSONValue] = job.outputs.keys.sorted().flatMap { name in
                (job.outputs[name]?.files ?? []).map { .object(["path": .string($0.path), "url": .string(base + "/" + $0.path)]) }
            }
            return JSONResponse.make(JSONValue.object(["url": .string(base + "/"), "files": .array(files), "expiresAt": .string(Self.timestamp(expires))]),
                                     status: .created)
        }
        router.group("links").add(middleware: ReadinessMiddleware(readiness: environment.readiness)).get(":token") { request, context in
            guard let grant = environment.playback.verify(try context.parameters.require("token")), grant.subject.hasPrefix("med_") else {
                throw APIError(.forbidden, code: "invalid_token", message: "The link is invalid or expired")
            }
            guard let media = try await environment.media(id: grant.subject, tenant: grant.tenant) else {
                throw await environment.absence("Media", id: grant.subject, tenant: grant.tenant)
            }
            // An upload never changes, but no cache may keep it past the link's life.
            var headers = OutputDelivery.cors
            headers[.cacheControl] = "public, max-age=\(OutputDelivery.maxAge(until: grant.expires)), immutable"
            return try await BlobResponse.make(blobs: environment.blobs, key: media.storageKey, contentType: media.contentType, request: request,
                                               extraHeaders: headers)
        }
    }

    /// A token for `subject`, living `expiresIn` seconds (from an optional JSON body) or an hour.
    private func sign(tenant: String, subject: String, request: Request, context: KilnRequestContext) async throws -> (String, Date) {
        let bytes = try await request.body.collect(upTo: 4096)
        var lifetime = Self.defaultLifetime
        if bytes.readableBytes > 0 {
            let body: JSONValue
            do { body = try JSONValue.decode(Data(buffer: bytes)) } catch { throw APIError.malformedJSON("\(error)") }
            if let value = body["expiresIn"] {
                guard let seconds = value.intValue, Self.lifetimes.contains(seconds) else {
                    throw APIError.invalid(ValidationError(pointer: JSONPointer(["expiresIn"]),
                                                           message: "Expected integer between \(Self.lifetimes.lowerBound) and \(Self.lifetimes.upperBound) for expiresIn but received \(value.summary)"))
                }
                lifetime = seconds
            }
        }
        let expires = Date(timeIntervalSinceNow: TimeInterval(lifetime))
        guard let token = environment.playback.token(tenant: tenant, subject: subject, expires: expires) else {
            throw APIError(.serviceUnavailable, code: "not_ready", message: "Kiln is starting; retry shortly")
        }
        return (token, expires)
    }

    static func timestamp(_ date: Date) -> String { date.formatted(.iso8601) }
}
