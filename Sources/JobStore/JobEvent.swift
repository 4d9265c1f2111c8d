import Foundation
import PipelineEngine

/// One recorded change of a job (see migration 0004): `job` (its status or
/// attempt changed), `progress` (an output moved on), `output` (an output ended).
public struct JobEvent: Sendable, Equatable {
    public var id: Int64
    public var type: String
    public var data: JSONValue
    public var createdAt: Date
}

extension JobStore {
    /// The NOTIFY channel on which the job's id is announced when it has new events.
    public var eventsChannel: String { "kiln_events_" + (schema ?? "public") }

    /// Events of the job after `after`, oldest first.
    public func events(jobID: String, after: Int64, limit: Int = 200) async throws -> [JobEvent] {
        let rows = try await client.query("""
            SELECT id, type, data::text, created_at FROM job_events
            WHERE job_id = \(jobID) AND id > \(after) ORDER BY id LIMIT \(limit)
            """, logger: logger)
        var events: [JobEvent] = []
        for try await (id, type, data, createdAt) in rows.decode((Int64, String, String, Date).self) {
            events.append(JobEvent(id: id, type: type, data: try JSONValue.decode(Data(data.utf8)), createdAt: createdAt))
        }
        return events
    }

    /// Events of every job of `tenant` after `after` (event ids are one sequence across jobs), oldest first, with each job's id.
    public func events(tenant: String, after: Int64, limit: Int = 200) async throws -> [(jobID: String, event: JobEvent)] {
        let rows = try await client.query("""
            SELECT e.id, e.job_id, e.type, e.data::text, e.created_at FROM job_events e JOIN jobs j ON j.id = e.job_id
            WHERE j.tenant = \(tenant) AND e.id > \(after) ORDER BY e.id LIMIT \(limit)
            """, logger: logger)
        var events: [(jobID: String, event: JobEvent)] = []
        for try await (id, jobID, type, data, createdAt) in rows.decode((Int64, String, String, String, Date).self) {
            events.append((jobID, JobEvent(id: id, type: type, data: try JSONValue.decode(Data(data.utf8)), createdAt: createdAt)))
        }
        return events
    }

    /// The newest event's id: where a stream that asks for nothing older starts.
    public func latestEventID() async throws -> Int64 {
        for try await id in try await client.query("SELECT coalesce(max(id), 0)::int8 FROM job_events", logger: logger).decode(Int64.self) {
            return id
        }
        return 0
    }
}
