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
}
