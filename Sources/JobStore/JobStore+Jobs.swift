import Foundation
import PipelineEngine
import PostgresNIO

extension JobStore {
    static let jobColumns = """
        id, tenant, status, input_media_id, input_kind, plan::text, outputs::text, progress, attempt, max_attempts,
        error::text, webhook, metadata::text, created_at, updated_at, started_at, finished_at, seq, reused_from
        """

    public enum InsertResult: Sendable {
        case created(Job)
        /// The same idempotency key and body: the job created the first time.
        case existing(Job)
        /// The same idempotency key with a different body.
        case conflict
        /// The input media was deleted (by its owner or retention) before the job became a row.
        case inputGone
    }

    /// Inserts a queued job, wakes a worker and records `audit` (its `object`
    /// becomes the job's id), all in one statement: one round trip, and the
    /// audit entry exists exactly when the job does. With an idempotency key, a
    /// second insert returns the first job (same body) or a conflict (different body).
    public func insertJob(_ job: NewJob, audit: AuditEntry? = nil) async throws -> InsertResult {
        let outputs = Dictionary(uniqueKeysWithValues: job.plan.outputs.map { ($0.name, OutputState()) })
        let rows = try await client.execute(Prepared.InsertJob(job: job, planJSON: job.plan.normalized.encodedString,
                                                               outputsJSON: encodeJSON(outputs), audit: audit, channel: channel),
                                            logger: logger)
        if let row = rows.first { return .created(try Self.decodeJob(row)) }
        let input = try await client.query("""
            SELECT 1 FROM media WHERE id = \(job.input.id) AND tenant = \(job.tenant) AND (expires_at IS NULL OR expires_at > now())
            """, logger: logger)
        var present = false
        for try await _ in input { present = true }
        guard present else { return .inputGone }
        guard let key = job.idempotencyKey else { throw JobStoreError.insertFailed }
        let existing = try await client.query("""
            SELECT request_hash, \(unescaped: Self.jobColumns) FROM jobs WHERE tenant = \(job.tenant) AND idempotency_key = \(key)
            """, logger: logger)
        for try await row in existing {
            let hash = try row.makeRandomAccess()[0].decode(String?.self)
            return hash == job.requestHash ? .existing(try Self.decodeJob(row, offset: 1)) : .conflict
        }
        throw JobStoreError.insertFailed
    }

    /// Wakes every idle worker slot: jobs became claimable again (a hand-back, the reaper).
    public func notifyWorkers() async throws {
        try await client.query("SELECT pg_notify(\(channel), 'requeued')", logger: logger)
    }

    public func job(id: String, tenant: String) async throws -> Job? {
        try await client.execute(Prepared.Job(id: id), logger: logger).first.map { try Self.decodeJob($0) }.flatMap { $0.tenant == tenant ? $0 : nil }
    }

    /// Newest first. The cursor is the last seen job's sequence number, so pages
    /// stay stable while new jobs arrive.
    public func listJobs(tenant: String, status: JobStatus?, limit: Int, before cursor: Int64?) async throws -> [Job] {
        let rows = try await client.query("""
            SELECT \(unescaped: Self.jobColumns) FROM jobs
            WHERE tenant = \(tenant)
              AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
              AND (\(cursor)::bigint IS NULL OR seq < \(cursor))
            ORDER BY seq DESC LIMIT \(Int64(limit))
            """, logger: logger)
        var jobs: [Job] = []
        for try await row in rows { jobs.append(try Self.decodeJob(row)) }
        return jobs
    }

    /// Cancels a job: a queued job ends at once; a running one is flagged and its
    /// worker stops at its next heartbeat. Returns the job as it is now.
    public func requestCancel(id: String, tenant: String) async throws -> Job? {
        // A queued job ends at once; a running one is flagged, and the worker
        // holding it is told in the same statement (NOTIFY `cancel <id>`), so
        // it stops within a moment instead of at its next heartbeat.
        try await client.query("""
            WITH flagged AS (
                UPDATE jobs SET
                    status = CASE WHEN status = 'queued' THEN 'canceled' ELSE status END,
                    finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END,
                    cancel_requested = (status = 'running'),
                    updated_at = now()
                WHERE id = \(id) AND tenant = \(tenant) AND status IN ('queued', 'running')
                RETURNING id, cancel_requested
            )
            SELECT pg_notify(\(channel), 'cancel ' || id) FROM flagged WHERE cancel_requested
            """, logger: logger)
        return try await job(id: id, tenant: tenant)
    }

    /// Jobs waiting to be claimed now, and how long the oldest of them has waited (seconds, 0 when none).
    public func queueStats() async throws -> (depth: Int, oldestSeconds: Double) {
        let rows = try await client.query("""
            SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
            FROM jobs WHERE status = 'queued' AND run_after <= now()
            """, logger: logger)
        for try await (depth, oldest) in rows.decode((Int64, Double).self) { return (Int(depth), oldest) }
        return (0, 0)
    }

    /// Queued and running jobs: cheap at any size, through the partial indexes of the claim and the reaper.
    public func activeCounts() async throws -> (queued: Int, running: Int) {
        let rows = try await client.query("""
            SELECT (SELECT count(*) FROM jobs WHERE status = 'queued'), (SELECT count(*) FROM jobs WHERE status = 'running')
            """, logger: logger)
        for try await (queued, running) in rows.decode((Int64, Int64).self) { return (Int(queued), Int(running)) }
        return (0, 0)
    }

    public func countsByStatus() async throws -> [JobStatus: Int] {
        var counts: [JobStatus: Int] = [:]
        for status in JobStatus.allCases { counts[status] = 0 }
        let rows = try await client.query("SELECT status, count(*) FROM jobs GROUP BY status", logger: logger)
        for try await (status, count) in rows.decode((String, Int64).self) {
            if let s = JobStatus(rawValue: status) { counts[s] = Int(count) }
        }
        return counts
    }

    static func decodeJob(_ row: PostgresRow, offset: Int = 0) throws -> Job {
        let r = row.makeRandomAccess()
        func col<T: PostgresDecodable>(_ i: Int, _ type: T.Type) throws -> T { try r[offset + i].decode(T.self) }
        let outputs = try StoredJSON.outputs(try col(6, String.self))
        return Job(
            id: try col(0, String.self),
            tenant: try col(1, String.self),
            status: JobStatus(rawValue: try col(2, String.self)) ?? .failed,
            inputMediaID: try col(3, String.self),
            inputKind: MediaKind(rawValue: try col(4, String.self)) ?? .image,
            plan: try JSONValue.decode(Data(try col(5, String.self).utf8)),
            outputs: outputs,
            progress: try col(7, Double.self),
            attempt: Int(try col(8, Int32.self)),
            maxAttempts: Int(try col(9, Int32.self)),
            error: try col(10, String?.self).map(StoredJSON.error),
            webhook: try col(11, String?.self),
            metadata: try col(12, String?.self).map { try JSONValue.decode(Data($0.utf8)) },
            createdAt: try col(13, Date.self),
            updatedAt: try col(14, Date.self),
            startedAt: try col(15, Date?.self),
            finishedAt: try col(16, Date?.self),
            sequence: try col(17, Int64.self),
            reusedFrom: try col(18, String?.self)
        )
    }
}

public enum JobStoreError: Error {
    case insertFailed
}

extension JSONValue {
    var encodedString: String { String(decoding: encoded(), as: UTF8.self) }
}
