import PostgresNIO

/// The statements every job runs, as named prepared statements: prepared once
/// per connection, then only bound and executed. As unnamed statements (what
/// `query` sends) PostgreSQL parsed and planned each one every time, and its
/// log showed parse + bind costing as much as the execution itself.
/// Parameters are declared text (or their exact type) so the casts in the SQL
/// (`$3::jsonb`) read them as they are written.
enum Prepared {
    /// A job by id; the caller checks its tenant (see `ByID`).
    struct Job: ByID {
        static let name = "kiln_job_by_id"
        static let sql = "SELECT \(JobStore.jobColumns) FROM jobs WHERE id = $1"
        var id: String
    }

    /// A media record by id; the caller checks its tenant (see `ByID`).
    struct Media: ByID {
        static let name = "kiln_media_by_id"
        static let sql = """
            SELECT id, tenant, kind, content_type, size, sha256, width, height, duration, storage_key, created_at, expires_at
            FROM media WHERE id = $1
            """
        var id: String
    }

    /// The oldest runnable job of the allowed kinds, claimed (see `JobStore.claim`).
    struct Claim: RowStatement {
        static let name = "kiln_claim"
        static let sql = """
            UPDATE jobs SET
                status = 'running', attempt = attempt + 1,
                lease_token = nextval('job_lease_tokens'), lease_owner = $1,
                lease_until = now() + make_interval(secs => $2),
                started_at = coalesce(started_at, now()), updated_at = now()
            WHERE id = (
                -- Fair across tenants (migration 0013): the tenants with queued jobs, one index
                -- probe each; of those under their running limit, the one running fewest; its oldest job.
                WITH RECURSIVE waiting(tenant) AS (
                    (SELECT tenant FROM jobs WHERE status = 'queued' ORDER BY tenant LIMIT 1)
                    UNION ALL
                    SELECT (SELECT q.tenant FROM jobs q WHERE q.status = 'queued' AND q.tenant > w.tenant ORDER BY q.tenant LIMIT 1)
                    FROM waiting w WHERE w.tenant IS NOT NULL
                ), load AS (
                    SELECT w.tenant,
                           (SELECT count(*) FROM jobs r WHERE r.tenant = w.tenant AND r.status = 'running') AS running,
                           coalesce((SELECT l.max_running FROM tenant_limits l WHERE l.tenant = w.tenant),
                                    (SELECT l.max_running FROM tenant_limits l WHERE l.tenant = '*')) AS cap
                    FROM waiting w WHERE w.tenant IS NOT NULL
                )
                SELECT next.id FROM load
                CROSS JOIN LATERAL (
                    SELECT c.id, c.run_after, c.seq FROM jobs c
                    WHERE c.tenant = load.tenant AND c.status = 'queued' AND c.run_after <= now() AND c.input_kind = ANY($3)
                    ORDER BY c.run_after, c.seq
                    FOR UPDATE SKIP LOCKED
                    LIMIT 1
                ) next
                -- A capped tenant is counted again under its lock (migration 0015); the others never wait.
                WHERE load.cap IS NULL OR (load.running < load.cap AND kiln_tenant_has_room(load.tenant, load.cap))
                ORDER BY load.running, next.run_after, next.seq
                LIMIT 1
            )
            RETURNING id, tenant, lease_token, attempt, max_attempts, plan::text, input_kind, input_key, input_content_type, outputs::text,
                -- The latest succeeded job that made what this one would (no extra round trip when there is none).
                CASE WHEN reuse AND work_key IS NOT NULL THEN (
                    SELECT earlier.id FROM jobs earlier
                    WHERE earlier.tenant = jobs.tenant AND earlier.work_key = jobs.work_key AND earlier.status = 'succeeded'
                    ORDER BY earlier.finished_at DESC LIMIT 1
                ) END
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .float8, .textArray]
        var owner: String
        var leaseSeconds: Double
        var kinds: [String]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 3)
            bindings.append(owner)
            bindings.append(leaseSeconds)
            bindings.append(kinds)
            return bindings
        }

    }

    /// Ends an attempt, with the last output's state when given (see `JobStore.finish`).
    struct Finish: PostgresPreparedStatement {
        static let name = "kiln_finish"
        static let sql = """
            UPDATE jobs SET
                outputs = CASE WHEN $1::text IS NULL THEN outputs
                               ELSE jsonb_set(outputs, ARRAY[$1::text], $2::jsonb, true) END,
                status = $3, error = $4::jsonb,
                progress = CASE WHEN $3 = 'succeeded' THEN 1 ELSE progress END,
                lease_token = NULL, lease_owner = NULL, lease_until = NULL,
                finished_at = now(), updated_at = now()
            -- No `status = 'running'`: a token is set only while the job runs (every change out of
            -- running clears it), and that clause let a generic plan scan the running jobs (see `ByID`).
            WHERE id = $5 AND lease_token = $6
            RETURNING id
            """
        static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text, .text, .text, .int8]
        typealias Row = String
        var outputName: String?
        var outputJSON: String?
        var status: String
        var errorJSON: String?
        var jobID: String
        var token: Int64

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            if let outputName { bindings.append(outputName) } else { bindings.appendNull() }
            if let outputJSON { bindings.append(outputJSON) } else { bindings.appendNull() }
            bindings.append(status)
            if let errorJSON { bindings.append(errorJSON) } else { bindings.appendNull() }
            bindings.append(jobID)
            bindings.append(token)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// A queued job, its audit entry and the workers' NOTIFY in one statement
    /// (see `JobStore.insertJob`).
    struct InsertJob: RowStatement {
        static let name = "kiln_insert_job"
        static let sql = """
            WITH held AS (
                -- The input stays until this job is a row: retention's prune skips a media row
                -- locked here (FOR UPDATE SKIP LOCKED), and a row it is deleting is not inserted against.
                SELECT id FROM media WHERE id = $3 AND tenant = $2 AND (expires_at IS NULL OR expires_at > now()) FOR SHARE
            ), inserted AS (
                INSERT INTO jobs (id, tenant, status, input_media_id, input_kind, input_key, input_content_type, plan, outputs,
                                  max_attempts, webhook, metadata, idempotency_key, request_hash, work_key, reuse)
                SELECT $1, $2, 'queued', $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11::jsonb, $12, $13,
                       encode(sha256(convert_to($20 || E'\n' || $7, 'UTF8')), 'hex'), $21
                FROM held
                ON CONFLICT (tenant, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING \(JobStore.jobColumns)
            ), audited AS (
                INSERT INTO audit_log (tenant, key_id, action, object, client, detail)
                SELECT tenant, $14, $15, id, $16, $17::jsonb
                FROM inserted WHERE $18
            )
            SELECT *, pg_notify($19, '')::text FROM inserted
            """
        static let bindingDataTypes: [PostgresDataType] = [
            .text, .text, .text, .text, .text, .text, .text, .text, .int4, .text, .text, .text, .text,
            .text, .text, .text, .text, .bool, .text, .text, .bool,
        ]
        var job: NewJob
        var planJSON: String
        var outputsJSON: String
        var audit: AuditEntry?
        var channel: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 21)
            func append(_ value: String?) { if let value { bindings.append(value) } else { bindings.appendNull() } }
            append(job.id)
            append(job.tenant)
            append(job.input.id)
            append(job.input.kind.rawValue)
            append(job.input.storageKey)
            append(job.input.contentType)
            append(planJSON)
            append(outputsJSON)
            bindings.append(Int32(job.maxAttempts))
            append(job.webhook)
            append(job.metadata?.encodedString)
            append(job.idempotencyKey)
            append(job.requestHash)
            append(audit?.keyID)
            append(audit?.action ?? "")
            append(audit?.client)
            append(audit?.detail?.encodedString)
            bindings.append(audit != nil)
            append(channel)
            append(job.input.sha256)
            bindings.append(job.reuse)
            return bindings
        }

    }
}

/// A statement whose rows go to the store's existing decoders as they are.
protocol RowStatement: PostgresPreparedStatement where Row == PostgresRow {}

extension RowStatement {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}


/// A row by its primary key `id` ($1) alone, the tenant checked by the caller.
/// PostgreSQL plans a named statement once for any parameters (a generic plan)
/// from the statistics it has then, and Kiln prepares on connections that may
/// meet a table still empty and never analyzed (a new deployment, a new schema).
/// With `AND tenant = $2` that plan chose the (tenant, status, seq) index and
/// filtered it by id, reading every job of the tenant per lookup: `make bench`
/// saw 2,973 buffers and 1.1 ms per status read, a third of PostgreSQL's CPU
/// per job, until autovacuum analyzed the table. With the key alone, the
/// primary key is the only index a plan can use (`GenericPlanTests`).
protocol ByID: RowStatement {
    var id: String { get }
}

extension ByID {
    static var bindingDataTypes: [PostgresDataType] { [.text] }

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        bindings.append(id)
        return bindings
    }
}
