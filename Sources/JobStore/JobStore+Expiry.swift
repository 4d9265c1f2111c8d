import Foundation
import PostgresNIO

/// Media with a time to live: past it, retention removes the media, every job
/// made from it and their files, and leaves a tombstone of each (reads then
/// answer 410 Gone, and `GET /v1/usage` counts what expired).
extension JobStore {
    /// What expired and was removed, and when.
    public struct ExpiredTotals: Sendable, Equatable {
        public var media: Int
        public var jobs: Int
        public var bytes: Int
    }

    /// Removes up to `limit` media past their expiry that no queued or running
    /// job reads (those wait for the next pass), with the jobs made from them
    /// and their events, recording a tombstone and an audit entry
    /// (`media.expire`, `job.expire`) each and the deletion of their files;
    /// returns the deletions, which the caller carries out. Each removed id is
    /// announced on the events channel, so API processes forget their copies.
    public func pruneExpiredMedia(limit: Int = 200) async throws -> [BlobDeletion] {
        let rows = try await client.query("""
            WITH doomed AS (
                SELECT m.id FROM media m
                WHERE m.expires_at <= now()
                  AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.input_media_id = m.id AND j.status IN ('queued', 'running'))
                ORDER BY m.expires_at
                LIMIT \(limit) FOR UPDATE SKIP LOCKED
            ), gone_jobs AS (
                DELETE FROM jobs WHERE input_media_id IN (SELECT id FROM doomed)
                RETURNING id, tenant, (SELECT coalesce(sum((file ->> 'size')::bigint), 0)
                                       FROM jsonb_each(outputs) AS output(name, state),
                                            jsonb_array_elements(output.state -> 'files') AS file)::bigint AS bytes
            ), gone_events AS (
                DELETE FROM job_events WHERE job_id IN (SELECT id FROM gone_jobs)
            ), gone_media AS (
                DELETE FROM media WHERE id IN (SELECT id FROM doomed) RETURNING id, tenant, storage_key, size
            ), tombstones AS (
                INSERT INTO expired_objects (id, tenant, kind, bytes)
                SELECT id, tenant, 'media', size FROM gone_media
                UNION ALL SELECT id, tenant, 'job', bytes FROM gone_jobs
                ON CONFLICT (id) DO NOTHING
            ), pending AS (
                INSERT INTO blob_deletions (prefix)
                SELECT storage_key FROM gone_media UNION ALL SELECT 'jobs/' || id || '/' FROM gone_jobs
                RETURNING id, prefix
            ), audited AS (
                INSERT INTO audit_log (tenant, action, object, detail)
                SELECT tenant, 'media.expire', id, '{"by": "ttl"}'::jsonb FROM gone_media
                UNION ALL SELECT tenant, 'job.expire', id, '{"by": "ttl"}'::jsonb FROM gone_jobs
            ), announced AS (
                SELECT count(*) AS count FROM (
                    SELECT pg_notify(\(eventsChannel), id) FROM (SELECT id FROM gone_media UNION ALL SELECT id FROM gone_jobs) AS ids
                ) AS sent
            )
            SELECT pending.id, pending.prefix, announced.count FROM pending, announced
            """, logger: logger)
        var deletions: [BlobDeletion] = []
        for try await (id, prefix, _) in rows.decode((Int64, String, Int64).self) { deletions.append(BlobDeletion(id: id, prefix: prefix)) }
        return deletions
    }

    /// Whether `id` of `tenant` expired and was removed.
    public func expired(id: String, tenant: String) async throws -> Bool {
        let rows = try await client.query("SELECT 1 FROM expired_objects WHERE id = \(id) AND tenant = \(tenant)", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// What of `tenant`'s expired and was removed, over the tombstones kept.
    public func expiredTotals(tenant: String) async throws -> ExpiredTotals {
        var totals = ExpiredTotals(media: 0, jobs: 0, bytes: 0)
        let rows = try await client.query("""
            SELECT kind, count(*), coalesce(sum(bytes), 0)::bigint FROM expired_objects WHERE tenant = \(tenant) GROUP BY kind
            """, logger: logger)
        for try await (kind, count, bytes) in rows.decode((String, Int64, Int64).self) {
            if kind == "media" { totals.media = Int(count) } else { totals.jobs = Int(count) }
            totals.bytes += Int(bytes)
        }
        return totals
    }

    /// Forgets tombstones older than `seconds`: reads of those ids answer 404 again.
    @discardableResult
    public func forgetTombstones(olderThan seconds: Double) async throws -> Int {
        let rows = try await client.query("""
            WITH gone AS (DELETE FROM expired_objects WHERE expired_at < now() - make_interval(secs => \(seconds)) RETURNING 1)
            SELECT count(*) FROM gone
            """, logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }
}
