import Foundation
import PipelineEngine
import PostgresNIO

extension JobStore {
    public func insertMedia(_ media: MediaRecord) async throws {
        try await client.query("""
            INSERT INTO media (id, tenant, kind, content_type, size, sha256, width, height, duration, storage_key, created_at, expires_at)
            VALUES (\(media.id), \(media.tenant), \(media.kind.rawValue), \(media.contentType), \(Int64(media.size)), \(media.sha256),
                    \(media.width.map(Int32.init)), \(media.height.map(Int32.init)), \(media.duration), \(media.storageKey), \(media.createdAt),
                    \(media.expiresAt))
            """, logger: logger)
    }

    /// The tenant's media record; another tenant's id reads as absent.
    public func media(id: String, tenant: String) async throws -> MediaRecord? {
        for row in try await client.execute(Prepared.Media(id: id), logger: logger) {
            let (id, owner, kind, contentType, size, sha, width, height, duration, key, created, expires) = try row.decode(
                (String, String, String, String, Int64, String, Int32?, Int32?, Double?, String, Date, Date?).self)
            guard owner == tenant else { return nil }
            return MediaRecord(id: id, tenant: tenant, kind: MediaKind(rawValue: kind) ?? .image, contentType: contentType,
                               size: Int(size), sha256: sha, width: width.map(Int.init), height: height.map(Int.init),
                               duration: duration, storageKey: key, createdAt: created, expiresAt: expires)
        }
        return nil
    }
}
