import Foundation
import PipelineEngine
import PostgresNIO

extension JobStore {
    /// What became of one job of a batch, in the batch's order.
    public enum BatchInsertResult: Sendable {
        case created(Job)
        /// Its idempotency key and body were seen before: the job made then.
        case existing(Job)
        /// Its idempotency key was used before with a different body.
        case conflict
        /// Its input media was deleted before the job became a row.
        case inputGone
    }

    /// Queues many jobs of one tenant in one statement: the rows, an audit
    /// entry for each (`audit` with the job as its object) and one NOTIFY that
    /// wakes every idle worker slot. One round trip however many jobs there
    /// are; a second only when some carried idempotency keys already used.
    /// Every job is a row, or has its answer, when this returns.
    public func insertJobs(_ jobs: [NewJob], tenant: String, audit: AuditEntry) async throws -> [BatchInsertResult] {
        guard !jobs.isEmpty else { return [] }
        precondition(jobs.allSatisfy { $0.tenant == tenant })
        let rows = JSONValue.array(jobs.enumerated().map { index, job in
            let outputs = Dictionary(uniqueKeysWithValues: job.plan.outputs.map { ($0.name, OutputState()) })
            func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
            return .object([
                "ord": .number(Double(index)), "id": .string(job.id), "media_id": .string(job.input.id),
                "kind": .string(job.input.kind.rawValue), "storage_key": .string(job.input.storageKey),
                "content_type": .string(job.input.contentType), "sha256": .string(job.input.sha256),
                // As text, cast in SQL, so the work key hashes the plan exactly as a single submission's does.
                "plan": .string(job.plan.normalized.encodedString), "outputs": .string(encodeJSON(outputs)),
                "max_attempts": .number(Double(job.maxAttempts)), "webhook": text(job.webhook),
                "metadata": text(job.metadata?.encodedString), "idempotency_key": text(job.idempotencyKey),
                "request_hash": text(job.requestHash), "reuse": .bool(job.reuse),
            ])
        }).encodedString
        let inserted = try await client.query("""
            WITH batch AS (
                SELECT * FROM jsonb_to_recordset(\(rows)::jsonb) AS b(
                    ord int, id text, media_id text, kind text, storage_key text, content_type text, sha256 text, plan text,
                    outputs text, max_attempts int, webhook text, metadata text, idempotency_key text, request_hash text, reuse boolean)
            ), held AS (
                -- As for one job (Prepared.InsertJob): the inputs stay until their jobs are rows.
                SELECT id FROM media WHERE tenant = \(tenant) AND id IN (SELECT media_id FROM batch)
                  AND (expires_at IS NULL OR expires_at > now()) FOR SHARE
            ), inserted AS (
                INSERT INTO jobs (id, tenant, status, input_media_id, input_kind, input_key, input_content_type, plan, outputs,
                                  max_attempts, webhook, metadata, idempotency_key, request_hash, work_key, reuse)
                SELECT b.id, \(tenant), 'queued', b.media_id, b.kind, b.storage_key, b.content_type, b.plan::jsonb, b.outputs::jsonb,
                       b.max_attempts, b.webhook, b.metadata::jsonb, b.idempotency_key, b.request_hash,
                       encode(sha256(convert_to(b.sha256 || E'\\n' || b.plan, 'UTF8')), 'hex'), b.reuse
                FROM batch b WHERE b.media_id IN (SELECT id FROM held)
                ORDER BY b.ord
                ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING \(unescaped: Self.jobColumns)
            ), audited AS (
                INSERT INTO audit_log (tenant, key_id, action, object, client, detail)
                SELECT tenant, \(audit.keyID), \(audit.action), id, \(audit.client), jsonb_build_object('input', input_media_id, 'batch', true)
                FROM inserted
            )
            -- Identical notifications of one transaction arrive once: one wake for the whole batch.
            SELECT *, pg_notify(\(channel), 'batch')::text FROM inserted
            """, logger: logger)
        var created: [String: Job] = [:]
        for try await row in inserted {
            let job = try Self.decodeJob(row)
            created[job.id] = job
        }
        let keys = jobs.filter { created[$0.id] == nil }.compactMap(\.idempotencyKey)
        var earlier: [String: (hash: String?, job: Job)] = [:]
        if !keys.isEmpty {
            let rows = try await client.query("""
                SELECT idempotency_key, request_hash, \(unescaped: Self.jobColumns) FROM jobs
                WHERE tenant = \(tenant) AND idempotency_key = ANY(\(keys))
                """, logger: logger)
            for try await row in rows {
                let columns = row.makeRandomAccess()
                let key = try columns[0].decode(String.self)
                earlier[key] = (try columns[1].decode(String?.self), try Self.decodeJob(row, offset: 2))
            }
        }
        return jobs.map { job in
            if let made = created[job.id] { return .created(made) }
            guard let key = job.idempotencyKey, let found = earlier[key] else { return .inputGone }
            return found.hash == job.requestHash ? .existing(found.job) : .conflict
        }
    }
}
