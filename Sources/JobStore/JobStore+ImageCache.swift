import Foundation
import PostgresNIO

/// The index of the image URL result cache (migration 0016); the bytes are in the blob store.
extension JobStore {
    /// Notes a rendering stored under `key`, made from `source` (`sha256:…` or `url:…`), or marks it used again.
    public func recordImageCacheEntry(key: String, tenant: String, source: String, bytes: Int) async throws {
        try await client.query("""
            INSERT INTO image_cache (key, tenant, source, bytes) VALUES (\(key), \(tenant), \(source), \(bytes))
            ON CONFLICT (key) DO UPDATE SET bytes = EXCLUDED.bytes, used_at = now()
            """, logger: logger)
    }

    /// Marks renderings served from the cache as used now, in one statement.
    public func touchImageCacheEntries(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try await client.query("UPDATE image_cache SET used_at = now() WHERE key = ANY(\(keys))", logger: logger)
    }

    /// Forgets the least recently used renderings beyond `budget` bytes and
    /// records the deletion of their bytes in the same statement; the caller
    /// carries the deletions out (a failed one is retried by retention).
    public func evictImageCache(over budget: Int) async throws -> [BlobDeletion] {
        let rows = try await client.query("""
            WITH ranked AS (
                     SELECT key, sum(bytes) OVER (ORDER BY used_at DESC, key) AS kept FROM image_cache
                 ),
                 gone AS (
                     DELETE FROM image_cache WHERE key IN (SELECT key FROM ranked WHERE kept > \(budget)) RETURNING key
                 )
            INSERT INTO blob_deletions (prefix) SELECT key FROM gone RETURNING id, prefix
            """, logger: logger)
        var deletions: [BlobDeletion] = []
        for try await (id, prefix) in rows.decode((Int64, String).self) { deletions.append(BlobDeletion(id: id, prefix: prefix)) }
        return deletions
    }

    /// The bytes the cache holds for `tenant`, and in all.
    public func imageCacheBytes(tenant: String) async throws -> (tenant: Int, all: Int) {
        let rows = try await client.query("""
            SELECT coalesce(sum(bytes) FILTER (WHERE tenant = \(tenant)), 0)::bigint, coalesce(sum(bytes), 0)::bigint FROM image_cache
            """, logger: logger)
        for try await (mine, all) in rows.decode((Int64, Int64).self) { return (Int(mine), Int(all)) }
        return (0, 0)
    }
}
