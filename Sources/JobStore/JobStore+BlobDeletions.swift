import Foundation
import PostgresNIO

/// A recorded deletion of stored files (migration 0014): everything under `prefix`.
public struct BlobDeletion: Sendable, Equatable {
    public var id: Int64
    public var prefix: String
}

extension JobStore {
    /// Deletes the tenant's media record, records the deletion of its bytes and
    /// the audit entry, in one statement; nil if there was no such record.
    public func deleteMedia(id: String, tenant: String, audit: AuditEntry) async throws -> (record: MediaRecord, deletion: BlobDeletion)? {
        guard let record = try await media(id: id, tenant: tenant) else { return nil }
        // The NOTIFY drops the record from every API process's read cache.
        let rows = try await client.query("""
            WITH gone AS (DELETE FROM media WHERE id = \(id) AND tenant = \(tenant) RETURNING id, storage_key),
                 pending AS (INSERT INTO blob_deletions (prefix) SELECT storage_key FROM gone RETURNING id, prefix),
                 audited AS (
                     INSERT INTO audit_log (tenant, key_id, action, object, client, detail)
                     SELECT \(audit.tenant), \(audit.keyID), \(audit.action), id, \(audit.client), \(audit.detail.map { $0.encodedString })::jsonb FROM gone
                 )
            SELECT pending.id, pending.prefix, pg_notify(\(eventsChannel), gone.id)::text FROM gone, pending
            """, logger: logger)
        for try await (deletionID, prefix, _) in rows.decode((Int64, String, String).self) {
            return (record, BlobDeletion(id: deletionID, prefix: prefix))
        }
        return nil
    }

    /// The deletion is done: forget it.
    public func finishBlobDeletion(_ id: Int64) async throws {
        try await client.query("DELETE FROM blob_deletions WHERE id = \(id)", logger: logger)
    }

    /// Deletions due for another try (their earlier one failed, or its process died),
    /// each pushed `leaseSeconds` away so two processes do not take one at once.
    public func claimDueBlobDeletions(limit: Int = 100, leaseSeconds: Double = 300) async throws -> [BlobDeletion] {
        let rows = try await client.query("""
            UPDATE blob_deletions SET attempts = attempts + 1,
                next_attempt_at = now() + make_interval(secs => \(leaseSeconds) * least(attempts + 1, 12))
            WHERE id IN (
                SELECT id FROM blob_deletions WHERE next_attempt_at <= now() ORDER BY next_attempt_at
                LIMIT \(limit) FOR UPDATE SKIP LOCKED
            )
            RETURNING id, prefix
            """, logger: logger)
        var due: [BlobDeletion] = []
        for try await (id, prefix) in rows.decode((Int64, String).self) { due.append(BlobDeletion(id: id, prefix: prefix)) }
        return due
    }

    public func pendingBlobDeletions() async throws -> [BlobDeletion] {
        let rows = try await client.query("SELECT id, prefix FROM blob_deletions ORDER BY id", logger: logger)
        var pending: [BlobDeletion] = []
        for try await (id, prefix) in rows.decode((Int64, String).self) { pending.append(BlobDeletion(id: id, prefix: prefix)) }
        return pending
    }
}
