import Foundation
import PostgresNIO

/// Removing what is older than the retention periods. Rows go first, in
/// batches (a row's files are deleted by the caller after it is gone, so a
/// client never sees a job whose files are missing); `SKIP LOCKED` lets many
/// workers prune at once without deleting the same rows twice.
extension JobStore {
    /// Deletes up to `limit` jobs that ended more than `seconds` ago, with their
    /// events, recording the deletion of their files and an audit entry each
    /// (`job.expire`); returns the deletions, which the caller carries out. Each deleted
    /// id is announced on the events channel, so API processes forget any
    /// copy of the job they keep.
    public func pruneFinishedJobs(olderThan seconds: Double, limit: Int = 500) async throws -> [BlobDeletion] {
        let rows = try await client.query("""
            WITH gone AS (
                DELETE FROM jobs WHERE id IN (
                    SELECT id FROM jobs
                    WHERE status IN ('succeeded', 'failed', 'canceled') AND finished_at < now() - make_interval(secs => \(seconds))
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING id, tenant
            ), events AS (
                -- No foreign key deletes them (migration 0017).
                DELETE FROM job_events WHERE job_id IN (SELECT id FROM gone)
            ), pending AS (
                INSERT INTO blob_deletions (prefix) SELECT 'jobs/' || id || '/' FROM gone RETURNING id, prefix
            ), audited AS (
                INSERT INTO audit_log (tenant, action, object, detail)
                SELECT tenant, 'job.expire', id, '{"by": "retention"}'::jsonb FROM gone
            )
            SELECT pending.id, pending.prefix, pg_notify(\(eventsChannel), gone.id)::text
            FROM gone JOIN pending ON pending.prefix = 'jobs/' || gone.id || '/'
            """, logger: logger)
        var deletions: [BlobDeletion] = []
        for try await (id, prefix, _) in rows.decode((Int64, String, String).self) { deletions.append(BlobDeletion(id: id, prefix: prefix)) }
        return deletions
    }

    /// Deletes up to `limit` uploads older than `seconds` that no queued or
    /// running job still reads, recording the deletion of their bytes and an
    /// audit entry each (`media.expire`); returns the deletions.
    public func pruneUploads(olderThan seconds: Double, limit: Int = 500) async throws -> [BlobDeletion] {
        let rows = try await client.query("""
            WITH gone AS (
                DELETE FROM media WHERE id IN (
                    SELECT m.id FROM media m
                    WHERE m.created_at < now() - make_interval(secs => \(seconds))
                      AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.input_media_id = m.id AND j.status IN ('queued', 'running'))
                    LIMIT \(limit) FOR UPDATE SKIP LOCKED
                )
                RETURNING id, tenant, storage_key
            ), pending AS (
                INSERT INTO blob_deletions (prefix) SELECT storage_key FROM gone RETURNING id, prefix
            ), audited AS (
                INSERT INTO audit_log (tenant, action, object, detail)
                SELECT tenant, 'media.expire', id, '{"by": "retention"}'::jsonb FROM gone
            )
            SELECT pending.id, pending.prefix, pg_notify(\(eventsChannel), gone.id)::text
            FROM gone JOIN pending ON pending.prefix = gone.storage_key
            """, logger: logger)
        var deletions: [BlobDeletion] = []
        for try await (id, prefix, _) in rows.decode((Int64, String, String).self) { deletions.append(BlobDeletion(id: id, prefix: prefix)) }
        return deletions
    }
}
