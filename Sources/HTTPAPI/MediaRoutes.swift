import Hummingbird
import JobStore

/// `GET /v1/media/{id}`, `GET /v1/media/{id}/content`, `DELETE /v1/media/{id}`.
struct MediaRoutes {
    let environment: APIEnvironment

    func register(on group: RouterGroup<KilnRequestContext>) {
        group.get("media/:id") { request, context in
            ConditionalGET.respond(MediaResource(record: try await record(context)), request: request)
        }
        group.get("media/:id/content") { request, context in
            let media = try await record(context)
            return try await BlobResponse.make(blobs: environment.blobs, key: media.storageKey, contentType: media.contentType, request: request,
                                               extraHeaders: [.eTag: "\"\(media.sha256)\""])
        }
        group.delete("media/:id") { _, context in
            let tenant = try context.requireTenant()
            let id = try context.parameters.require("id")
            guard let media = try await environment.store.deleteMedia(id: id, tenant: tenant) else { throw APIError.notFound("Media") }
            environment.events.media.remove(id: id)  // at once here; other processes when the NOTIFY arrives
            try await environment.blobs.deleteAll(prefix: media.storageKey)
            await Audit.record(environment, context, "media.delete", media.id)
            return Response(status: .noContent)
        }
    }

    private func record(_ context: KilnRequestContext) async throws -> MediaRecord {
        let tenant = try context.requireTenant()
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id, prefix: "med"), let media = try await environment.media(id: id, tenant: tenant) else {
            throw APIError.notFound("Media")
        }
        return media
    }
}
