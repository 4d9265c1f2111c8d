import Foundation
import PostgresNIO

/// Removing what is older than the retention periods. Rows go first, in
/// batches (a row's files are deleted by the caller after it is gone, so a
/// client never sees a job whose files are missing); `SKIP LOCKED` lets many
/// workers prune at once without deleting the same rows twice.
extension JobStore {
    /// Deletes up to `limit` jobs that ended more than `seconds` ago, with their
    /// events; returns their ids, whose files the caller deletes. Each deleted
    /// id is announced on the events channel, so API processes forget any
    /// copy of the job they keep.
    public func pruneFinishedJobs(olderThan seconds: Double, limit: Int = 500) async throws -> [String] {
        let rows = try await client.query("""
            WITH gone AS (
                DELETE FROM jobs WHERE id IN (
                    SELECT id FROM jobs
                    WHERE status IN ('succeeded', 'failed', 'canceled') AND finished_at < now() - make_interval(secs => \(seconds))
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING id
            )
            SELECT id, pg_notify(\(eventsChannel), id)::text FROM gone
            """, logger: logger)
        var ids: [String] = []
        for try await row in rows { ids.append(try row.makeRandomAccess()[0].decode(String.self)) }
        return ids
    }

    /// Deletes up to `limit` uploads older than `seconds` that no queued or
    /// running job still reads; returns their storage keys.
    public func pruneUploads(olderThan seconds: Double, limit: Int = 500) async throws -> [String] {
        let rows = try await client.query("""
            WITH gone AS (
                DELETE FROM media WHERE id IN (
                    SELECT m.id FROM media m
                    WHERE m.created_at < now() - make_interval(secs => \(seconds))
                      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.input_media_id = m.id AND j.status IN ('queued', 'running'))
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING id, storage_key
            )
            SELECT storage_key, pg_notify(\(eventsChannel), id)::text FROM gone
            """, logger: logger)
        var keys: [String] = []
        for try await (key, _) in rows.decode((String, String).self) { keys.append(key) }
        return keys
    }
}
