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
            guard Identifier.isValid(id, prefix: "med") else { throw APIError.notFound("Media") }
            // The record, the deletion of its bytes and the audit entry go in one statement; then the
            // bytes go. If the store fails now, the recorded deletion is retried until it succeeds
            // (workers' retention pass): the client's answer stands either way.
            let audit = AuditEntry(tenant: tenant, keyID: context.keyID, action: "media.delete", object: id, client: context.clientAddress)
            guard let (_, deletion) = try await environment.store.deleteMedia(id: id, tenant: tenant, audit: audit) else {
                throw APIError.notFound("Media")
            }
            environment.events.media.remove(id: id)  // at once here; other processes when the NOTIFY arrives
            do {
                try await environment.blobs.deleteAll(prefix: deletion.prefix)
                try await environment.store.finishBlobDeletion(deletion.id)
            } catch {
                context.logger.warning("a deleted upload's bytes could not be removed yet; it will be retried",
                                       metadata: ["media.id": .string(id), "error": "\(error)"])
            }
            return Response(status: .noContent)
        }
    }

    private func record(_ context: KilnRequestContext) async throws -> MediaRecord {
        let tenant = try context.requireTenant()
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id, prefix: "med") else { throw APIError.notFound("Media") }
        guard let media = try await environment.media(id: id, tenant: tenant) else { throw await environment.absence("Media", id: id, tenant: tenant) }
        return media
    }
}
