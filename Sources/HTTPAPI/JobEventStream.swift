import Foundation
import HTTPTypes
import Hummingbird
import JobStore
import NIOCore
import PipelineEngine

/// `GET /v1/jobs/{id}/events`: the job's events as Server-Sent Events, from the
/// start or after `Last-Event-ID`, until the job has ended and every event was
/// sent. Events are read from PostgreSQL (so any process's changes show, and a
/// reconnecting client misses nothing); NOTIFY wakes the stream, and a comment
/// every 15 s keeps proxies from closing it.
struct JobEventStream {
    let environment: APIEnvironment

    func response(for job: Job, request: Request, ticket: LongRequests.Ticket? = nil) -> Response {
        let jobURL = environment.publicURL + "/v1/jobs/" + job.id
        let store = environment.store
        return EventStreamLoop.response(hub: environment.events, subject: job.id, after: EventStreamLoop.lastEventID(request) ?? 0,
                                        ticket: ticket) { after in
            let events = try await store.events(jobID: job.id, after: after, limit: EventStreamLoop.pageSize)
            // Done once the job has ended and its last event was sent.
            var done = events.last.map(Self.endsJob) ?? false
            if events.isEmpty, let current = try await store.job(id: job.id, tenant: job.tenant) { done = current.status.isFinal }
            return (events.map { ($0.id, Self.frame($0, jobURL: jobURL)) }, done)
        }
    }

    static func endsJob(_ event: JobEvent) -> Bool {
        event.type == "job" && ["succeeded", "failed", "canceled"].contains(event.data["status"]?.stringValue ?? "")
    }

    /// `id`, `event` and one `data` line of JSON; stored file keys become URLs.
    static func frame(_ event: JobEvent, jobURL: String) -> String {
        var data = event.data
        if case var .object(object) = data, let files = object["files"]?.arrayValue {
            object["files"] = .array(files.map { file in
                guard case var .object(fields) = file else { return file }
                fields["key"] = nil
                if let path = fields["path"]?.stringValue { fields["url"] = .string(jobURL + "/files/" + path) }
                return .object(fields)
            })
            data = .object(object)
        }
        if case var .object(object) = data {
            object["at"] = .string(event.createdAt.formatted(.iso8601))
            data = .object(object)
        }
        return "id: \(event.id)\nevent: \(event.type)\ndata: \(String(decoding: data.encoded(), as: UTF8.self))\n\n"
    }
}
