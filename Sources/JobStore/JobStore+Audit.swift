import Foundation
import PipelineEngine
import PostgresNIO

/// One recorded action (migration 0007).
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var at: Date
    public var tenant: String
    public var keyID: String?
    public var action: String
    public var object: String
    public var client: String?
    public var detail: JSONValue?

    public init(id: Int64 = 0, at: Date = Date(), tenant: String, keyID: String?, action: String, object: String, client: String?, detail: JSONValue? = nil) {
        self.id = id
        self.at = at
        self.tenant = tenant
        self.keyID = keyID
        self.action = action
        self.object = object
        self.client = client
        self.detail = detail
    }
}

/// What one tenant holds and has used (`GET /v1/usage`).
public struct TenantUsage: Sendable, Equatable {
    /// Bytes of uploads, by media kind.
    public var uploadBytes: [String: Int]
    public var uploadCounts: [String: Int]
    /// Bytes of job output files held.
    public var outputBytes: Int
    public var jobsByStatus: [String: Int]
    /// Wall-clock seconds jobs spent running, start to end, summed over ended jobs.
    public var processingSeconds: Double
    /// Bytes of image URL renderings kept in the result cache.
    public var imageCacheBytes = 0
    /// Media past their `expiresIn` and the jobs made from them, removed (over the tombstones kept).
    public var expired = JobStore.ExpiredTotals(media: 0, jobs: 0, bytes: 0)
}

extension JobStore {
    public func recordAudit(_ entry: AuditEntry) async throws {
        try await client.query("""
            INSERT INTO audit_log (tenant, key_id, action, object, client, detail)
            VALUES (\(entry.tenant), \(entry.keyID), \(entry.action), \(entry.object), \(entry.client), \(entry.detail?.encodedString)::jsonb)
            """, logger: logger)
    }

    /// The tenant's entries, newest first, before `cursor` (an entry id) when given.
    public func auditLog(tenant: String, action: String?, limit: Int, before cursor: Int64?) async throws -> [AuditEntry] {
        let rows = try await client.query("""
            SELECT id, at, tenant, key_id, action, object, client, detail::text FROM audit_log
            WHERE tenant = \(tenant) AND (\(action)::text IS NULL OR action = \(action)) AND (\(cursor)::bigint IS NULL OR id < \(cursor))
            ORDER BY id DESC LIMIT \(limit)
            """, logger: logger)
        var entries: [AuditEntry] = []
        for try await (id, at, tenant, key, action, object, client, detail) in rows.decode((Int64, Date, String, String?, String, String, String?, String?).self) {
            entries.append(AuditEntry(id: id, at: at, tenant: tenant, keyID: key, action: action, object: object, client: client,
                                      detail: try detail.map { try JSONValue.decode(Data($0.utf8)) }))
        }
        return entries
    }

    public func usage(tenant: String) async throws -> TenantUsage {
        var usage = TenantUsage(uploadBytes: [:], uploadCounts: [:], outputBytes: 0, jobsByStatus: [:], processingSeconds: 0)
        for try await (kind, count, bytes) in try await client.query("""
            SELECT kind, count(*), coalesce(sum(size), 0)::bigint FROM media WHERE tenant = \(tenant) GROUP BY kind
            """, logger: logger).decode((String, Int64, Int64).self) {
            usage.uploadCounts[kind] = Int(count)
            usage.uploadBytes[kind] = Int(bytes)
        }
        for try await (status, count, seconds) in try await client.query("""
            SELECT status, count(*), coalesce(sum(extract(epoch FROM finished_at - started_at)), 0)::float8
            FROM jobs WHERE tenant = \(tenant) GROUP BY status
            """, logger: logger).decode((String, Int64, Double).self) {
            usage.jobsByStatus[status] = Int(count)
            usage.processingSeconds += seconds
        }
        for try await bytes in try await client.query("""
            SELECT coalesce(sum((file ->> 'size')::bigint), 0)::bigint
            FROM jobs, jsonb_each(outputs) AS output(name, state), jsonb_array_elements(state -> 'files') AS file
            WHERE tenant = \(tenant)
            """, logger: logger).decode(Int64.self) {
            usage.outputBytes = Int(bytes)
        }
        usage.imageCacheBytes = try await imageCacheBytes(tenant: tenant).tenant
        usage.expired = try await expiredTotals(tenant: tenant)
        return usage
    }
}
