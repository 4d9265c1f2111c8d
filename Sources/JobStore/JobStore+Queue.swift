import Foundation
import PipelineEngine
import PostgresNIO

/// The worker's side of the store. Every write after a claim is conditioned on
/// the lease token it got (`AND lease_token = …`): a worker that paused past its
/// lease (a "zombie") finds its writes matching no row and learns it lost the job.
extension JobStore {
    /// Claims the oldest runnable job in one statement: `SKIP LOCKED` lets many
    /// workers claim concurrently without blocking on each other's rows.
    /// `kinds` limits the claim to jobs whose input is of those kinds (a worker
    /// whose video slots are full takes image jobs only); nil takes any.
    public func claim(owner: String, leaseSeconds: Double, kinds: [MediaKind]? = nil) async throws -> ClaimedJob? {
        let allowed = (kinds ?? MediaKind.allCases).map(\.rawValue)
        let rows = try await client.execute(Prepared.Claim(owner: owner, leaseSeconds: leaseSeconds, kinds: allowed), logger: logger)
        for row in rows {
            let (id, tenant, token, attempt, maxAttempts, plan, kind, key, contentType, outputs, reusable) = try row.decode(
                (String, String, Int64, Int32, Int32, String, String, String, String, String, String?).self)
            return ClaimedJob(
                id: id, tenant: tenant, leaseToken: token, attempt: Int(attempt), maxAttempts: Int(maxAttempts),
                plan: try JSONValue.decode(Data(plan.utf8)), inputKind: MediaKind(rawValue: kind) ?? .image,
                inputKey: key, inputContentType: contentType,
                outputs: try StoredJSON.outputs(outputs), reusable: reusable)
        }
        return nil
    }

    public enum LeaseState: Sendable, Equatable {
        case held
        /// A client asked to cancel; the lease is still ours to finish with.
        case cancelRequested
        /// Another attempt owns the job, or it ended: stop and write nothing.
        case lost
    }

    /// Extends the lease; tells whether it is still ours and whether to cancel.
    public func heartbeat(jobID: String, token: Int64, leaseSeconds: Double) async throws -> LeaseState {
        let rows = try await client.query("""
            UPDATE jobs SET lease_until = now() + make_interval(secs => \(leaseSeconds))
            WHERE id = \(jobID) AND lease_token = \(token) AND status = 'running'
            RETURNING cancel_requested
            """, logger: logger)
        for try await cancel in rows.decode(Bool.self) { return cancel ? .cancelRequested : .held }
        return .lost
    }

    /// Records one output's state and the job's progress. False when the lease is gone.
    @discardableResult
    public func updateOutput(jobID: String, token: Int64, name: String, state: OutputState, jobProgress: Double) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE jobs SET
                outputs = jsonb_set(outputs, ARRAY[\(name)]::text[], \(encodeJSON(state))::jsonb, true),
                progress = \(jobProgress), updated_at = now()
            WHERE id = \(jobID) AND lease_token = \(token) AND status = 'running'
            RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Ends the attempt: succeeded, failed or canceled. False when the lease is gone.
    /// `output`: the last output's final state, recorded in the same statement
    /// (one round trip instead of two, and no moment where every output is
    /// done but the job is not).
    @discardableResult
    public func finish(jobID: String, token: Int64, status: JobStatus, error: JobError?,
                       output: (name: String, state: OutputState)? = nil) async throws -> Bool {
        precondition(status.isFinal)
        let errorJSON = error.map { encodeJSON($0) }
        let outputJSON = output.map { encodeJSON($0.state) }
        let rows = try await client.execute(Prepared.Finish(outputName: output?.name, outputJSON: outputJSON, status: status.rawValue,
                                                            errorJSON: errorJSON, jobID: jobID, token: token), logger: logger)
        return !rows.isEmpty
    }

    /// Ends an attempt that took an earlier job's identical outputs (`outputs`,
    /// its files already copied under this attempt) instead of running.
    public func finishReused(jobID: String, token: Int64, outputs: [String: OutputState], from earlier: String) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE jobs SET
                outputs = \(encodeJSON(outputs))::jsonb, status = 'succeeded', progress = 1, error = NULL, reused_from = \(earlier),
                lease_token = NULL, lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now()
            WHERE id = \(jobID) AND lease_token = \(token) AND status = 'running'
            RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Puts the job back in the queue after a transient failure, or ends it
    /// `canceled` when a cancel was asked for meanwhile.
    @discardableResult
    public func retry(jobID: String, token: Int64, error: JobError, afterSeconds: Double) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE jobs SET
                status = CASE WHEN cancel_requested THEN 'canceled' ELSE 'queued' END,
                error = CASE WHEN cancel_requested THEN '{"code": "canceled", "message": "canceled by request"}'::jsonb ELSE error END,
                finished_at = CASE WHEN cancel_requested THEN now() ELSE NULL END,
                last_error = \(encodeJSON(error))::jsonb,
                run_after = now() + make_interval(secs => \(afterSeconds)),
                lease_token = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now()
            WHERE id = \(jobID) AND lease_token = \(token) AND status = 'running'
            RETURNING id
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// Hands a job back because this worker is shutting down: queued again at
    /// once without using up the attempt, up to `maxReleases` times (then the
    /// attempt counts, so a job cannot loop through restarts for ever); ended
    /// `canceled` when a cancel was asked for meanwhile.
    @discardableResult
    public func release(jobID: String, token: Int64, maxReleases: Int = 5) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE jobs SET
                status = CASE WHEN cancel_requested THEN 'canceled' ELSE 'queued' END,
                error = CASE WHEN cancel_requested THEN '{"code": "canceled", "message": "canceled by request"}'::jsonb ELSE error END,
                finished_at = CASE WHEN cancel_requested THEN now() ELSE NULL END,
                attempt = CASE WHEN releases < \(maxReleases) THEN attempt - 1 ELSE attempt END,
                releases = releases + 1,
                last_error = '{"code": "shutdown", "message": "the worker shut down; the job was handed back"}'::jsonb,
                run_after = now(), lease_token = NULL, lease_owner = NULL, lease_until = NULL, updated_at = now()
            WHERE id = \(jobID) AND lease_token = \(token) AND status = 'running'
            RETURNING status
            """, logger: logger)
        for try await status in rows.decode(String.self) {
            if status == "queued" { try await notifyWorkers() }
            return true
        }
        return false
    }

    /// A job whose lease the reaper found expired, and what became of it.
    /// Ends the leases a worker holds now (its process is known dead), so the
    /// reaper hands its jobs back at once instead of when the leases run out.
    /// Returns how many there were.
    public func expireLeases(ownedBy owner: String) async throws -> Int {
        let rows = try await client.query("""
            UPDATE jobs SET lease_until = now() - interval '1 millisecond'
            WHERE status = 'running' AND lease_owner = \(owner)
            RETURNING id
            """, logger: logger)
        var count = 0
        for try await _ in rows.decode(String.self) { count += 1 }
        return count
    }

    public struct ReapedJob: Sendable, Equatable {
        public var id: String
        public var tenant: String
        /// `queued` again, or ended: `failed` (`worker_crashed`) or `canceled`.
        public var status: JobStatus
    }

    /// Requeues jobs whose lease ran out (their worker died or hung). A job
    /// out of attempts, or whose attempts ended this way `maxCrashes` times,
    /// fails with `worker_crashed`; one asked to cancel ends `canceled`.
    /// Returns the jobs touched.
    @discardableResult
    public func reapExpiredLeases(maxCrashes: Int = 3) async throws -> [ReapedJob] {
        let rows = try await client.query("""
            WITH expired AS (
                SELECT id, cancel_requested,
                       (attempt >= max_attempts OR crashes + 1 >= \(maxCrashes)) AS exhausted
                FROM jobs WHERE status = 'running' AND lease_until < now()
                FOR UPDATE SKIP LOCKED
            )
            UPDATE jobs SET
                status = CASE WHEN expired.cancel_requested THEN 'canceled' WHEN expired.exhausted THEN 'failed' ELSE 'queued' END,
                error = CASE WHEN expired.cancel_requested THEN '{"code": "canceled", "message": "canceled by request"}'::jsonb
                             WHEN expired.exhausted
                             THEN jsonb_build_object('code', 'worker_crashed', 'message',
                                  format('the worker running it stopped responding on %s attempts', crashes + 1))
                             ELSE error END,
                crashes = crashes + 1,
                last_error = '{"code": "worker_crashed", "message": "the worker stopped responding"}'::jsonb,
                finished_at = CASE WHEN expired.cancel_requested OR expired.exhausted THEN now() ELSE NULL END,
                lease_token = NULL, lease_owner = NULL, lease_until = NULL, run_after = now(), updated_at = now()
            FROM expired WHERE jobs.id = expired.id
            RETURNING jobs.id, jobs.tenant, jobs.status
            """, logger: logger)
        var reaped: [ReapedJob] = []
        for try await (id, tenant, status) in rows.decode((String, String, String).self) {
            reaped.append(ReapedJob(id: id, tenant: tenant, status: JobStatus(rawValue: status) ?? .queued))
        }
        if reaped.contains(where: { $0.status == .queued }) { try await notifyWorkers() }
        return reaped
    }
}
