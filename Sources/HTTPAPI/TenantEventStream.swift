import Foundation
import HTTPTypes
import Hummingbird
import JobStore
import NIOCore

/// `GET /v1/events`: every job of the tenant, as Server-Sent Events (the same
/// events as `/v1/jobs/{id}/events`, each with its `jobId`), from now on, or
/// after `Last-Event-ID`. It stays open: what a dashboard listens to, instead
/// of one stream per job (browsers allow six connections per server).
struct TenantEventStream {
    let environment: APIEnvironment

    func response(tenant: String, request: Request, ticket: LongRequests.Ticket? = nil) async throws -> Response {
        let start: Int64
        if let given = EventStreamLoop.lastEventID(request) { start = given } else { start = try await environment.store.latestEventID() }
        let store = environment.store
        let publicURL = environment.publicURL
        // Woken by the tenant's own jobs only; a burst is gathered into one read.
        return EventStreamLoop.response(hub: environment.events, subject: EventHub.everyJob(of: tenant), after: start,
                                        gather: .milliseconds(200), ticket: ticket) { after in
            let events = try await store.events(tenant: tenant, after: after, limit: EventStreamLoop.pageSize)
            return (events.map { jobID, event in
                var withJob = event
                if case var .object(data) = event.data {
                    data["jobId"] = .string(jobID)
                    withJob.data = .object(data)
                }
                return (event.id, JobEventStream.frame(withJob, jobURL: publicURL + "/v1/jobs/" + jobID))
            }, false)
        }
    }
}
