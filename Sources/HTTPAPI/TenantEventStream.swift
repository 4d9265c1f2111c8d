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

    func response(tenant: String, request: Request) async throws -> Response {
        let given = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        let start: Int64
        if let given { start = given } else { start = try await environment.store.latestEventID() }
        let store = environment.store
        let hub = environment.events
        let publicURL = environment.publicURL
        let body = ResponseBody { writer in
            let waiter = hub.subscribe(EventHub.everyJob)
            defer { hub.unsubscribe(EventHub.everyJob, waiter) }
            var last = start
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            while true {
                let events = try await store.events(tenant: tenant, after: last)
                for (jobID, event) in events {
                    var withJob = event
                    if case var .object(data) = event.data {
                        data["jobId"] = .string(jobID)
                        withJob.data = .object(data)
                    }
                    try await writer.write(ByteBuffer(string: JobEventStream.frame(withJob, jobURL: publicURL + "/v1/jobs/" + jobID)))
                    last = event.id
                }
                if events.count == 200 { continue }
                if await waiter.waitUnlessShuttingDown(seconds: JobEventStream.keepAliveSeconds) { break }
                // Every job's NOTIFY wakes this stream, other tenants' too: gather a burst into one read.
                try await Task.sleep(for: .milliseconds(200))
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
            }
            // Shutting down: the client reconnects (to another server) with Last-Event-ID.
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no",
        ], body: body)
    }
}
