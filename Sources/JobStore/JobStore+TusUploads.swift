import Foundation
import PostgresNIO

/// A resumable upload in progress (migration 0006).
public struct TusUpload: Sendable, Equatable {
    public var id: String
    public var tenant: String
    public var length: Int
    public var offset: Int
    /// `Upload-Metadata` as the client sent it.
    public var metadata: String?
    /// The media record the finished upload became.
    public var mediaID: String?
    public var expiresAt: Date
}

extension JobStore {
    static let tusColumns = "id, tenant, upload_length, upload_offset, metadata, media_id, expires_at"

    public func createTusUpload(id: String, tenant: String, length: Int, metadata: String?, expiresAt: Date) async throws -> TusUpload {
        let rows = try await client.query("""
            INSERT INTO tus_uploads (id, tenant, upload_length, metadata, expires_at)
            VALUES (\(id), \(tenant), \(Int64(length)), \(metadata), \(expiresAt))
            RETURNING \(unescaped: Self.tusColumns)
            """, logger: logger)
        for try await row in rows { return try Self.decodeTus(row) }
        throw JobStoreError.insertFailed
    }

    /// The tenant's upload, unless it expired unfinished.
    public func tusUpload(id: String, tenant: String) async throws -> TusUpload? {
        let rows = try await client.query("""
            SELECT \(unescaped: Self.tusColumns) FROM tus_uploads
            WHERE id = \(id) AND tenant = \(tenant) AND (expires_at > now() OR media_id IS NOT NULL)
            """, logger: logger)
        for try await row in rows { return try Self.decodeTus(row) }
        return nil
    }

    /// Appends a stored chunk if the upload is still at `from`; nil when another
    /// request moved it first (the caller deletes its chunk and answers 409).
    /// One row more, whatever the number of chunks before.
    public func appendTusChunk(id: String, tenant: String, from: Int, to: Int, key: String, expiresAt: Date) async throws -> TusUpload? {
        let rows = try await client.query("""
            WITH moved AS (
                UPDATE tus_uploads SET upload_offset = \(Int64(to)), expires_at = \(expiresAt)
                WHERE id = \(id) AND tenant = \(tenant) AND upload_offset = \(Int64(from)) AND media_id IS NULL AND \(Int64(to)) <= upload_length
                RETURNING \(unescaped: Self.tusColumns)
            ), added AS (
                INSERT INTO tus_chunks (upload_id, start_offset, key) SELECT id, \(Int64(from)), \(key) FROM moved
            )
            SELECT \(unescaped: Self.tusColumns) FROM moved
            """, logger: logger)
        for try await row in rows { return try Self.decodeTus(row) }
        return nil
    }

    /// The upload's chunk keys, in order.
    public func tusChunks(id: String) async throws -> [String] {
        let rows = try await client.query("SELECT key FROM tus_chunks WHERE upload_id = \(id) ORDER BY start_offset", logger: logger)
        var keys: [String] = []
        for try await key in rows.decode(String.self) { keys.append(key) }
        return keys
    }

    /// Marks the finished upload as the media record `mediaID` and forgets its
    /// chunks (the caller deletes their objects); false if another request finished it first.
    public func completeTusUpload(id: String, mediaID: String) async throws -> Bool {
        let rows = try await client.query("""
            WITH done AS (UPDATE tus_uploads SET media_id = \(mediaID) WHERE id = \(id) AND media_id IS NULL RETURNING id),
                 forgotten AS (DELETE FROM tus_chunks WHERE upload_id IN (SELECT id FROM done))
            SELECT id FROM done
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Deletes the upload's row (termination); returns its chunk keys, or nil if it was not there.
    public func deleteTusUpload(id: String, tenant: String) async throws -> [String]? {
        let rows = try await client.query("""
            WITH gone AS (DELETE FROM tus_uploads WHERE id = \(id) AND tenant = \(tenant) RETURNING id),
                 keys AS (DELETE FROM tus_chunks WHERE upload_id IN (SELECT id FROM gone) RETURNING start_offset, key)
            SELECT (SELECT count(*) FROM gone), coalesce((SELECT array_agg(key ORDER BY start_offset) FROM keys), '{}')
            """, logger: logger)
        for try await (count, keys) in rows.decode((Int64, [String]).self) { return count > 0 ? keys : nil }
        return nil
    }

    /// Deletes up to `limit` uploads past their expiry (an unfinished one's
    /// chunks go with it; a finished one's media stays); returns their chunk keys.
    public func pruneExpiredTusUploads(limit: Int = 500) async throws -> (uploads: Int, chunks: [String]) {
        let rows = try await client.query("""
            WITH gone AS (
                DELETE FROM tus_uploads WHERE id IN (
                    SELECT id FROM tus_uploads WHERE expires_at < now() LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING id
            ), keys AS (DELETE FROM tus_chunks WHERE upload_id IN (SELECT id FROM gone) RETURNING key)
            SELECT (SELECT count(*) FROM gone), coalesce((SELECT array_agg(key) FROM keys), '{}')
            """, logger: logger)
        for try await (count, keys) in rows.decode((Int64, [String]).self) { return (Int(count), keys) }
        return (0, [])
    }

    static func decodeTus(_ row: PostgresRow) throws -> TusUpload {
        let (id, tenant, length, offset, metadata, media, expires) = try row.decode(
            (String, String, Int64, Int64, String?, String?, Date).self)
        return TusUpload(id: id, tenant: tenant, length: Int(length), offset: Int(offset), metadata: metadata,
                         mediaID: media, expiresAt: expires)
    }
}
