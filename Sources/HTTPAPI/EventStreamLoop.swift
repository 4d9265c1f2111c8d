import HTTPTypes
import Hummingbird
import NIOCore

/// What every Server-Sent Events route of the API shares: the `retry` advice,
/// pages of events read from PostgreSQL after the last one sent, a wait for the
/// next NOTIFY (or the keep-alive comment every 15 s, which keeps proxies from
/// closing the stream), and an end on graceful shutdown, after which the
/// client reconnects with `Last-Event-ID`.
enum EventStreamLoop {
    static let keepAliveSeconds = 15.0
    /// Events read at once; a full page is followed by another read at once.
    static let pageSize = 200

    /// One read after `after`: each event's id and frame, and whether the stream is done once they are sent.
    typealias Read = @Sendable (_ after: Int64) async throws -> (frames: [(id: Int64, text: String)], done: Bool)

    /// `Last-Event-ID`, when the client sent one.
    static func lastEventID(_ request: Request) -> Int64? {
        request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// `subject`: what the stream's waiter is woken for (a job's id, or `EventHub.everyJob(of:)`).
    /// `gather`: a pause after each wake, so a burst of NOTIFYs becomes one read.
    /// `ticket`: the stream's place among its key's long requests, held as long as the body is.
    static func response(hub: EventHub, subject: String, after start: Int64, gather: Duration? = nil, ticket: LongRequests.Ticket? = nil,
                         read: @escaping Read) -> Response {
        let body = ResponseBody { writer in
            let waiter = hub.subscribe(subject)
            defer { hub.unsubscribe(subject, waiter) }
            // Woken without news, the stream writes a keep-alive: that is how it finds its client gone.
            ticket?.onNudge { [weak waiter] in waiter?.wake(status: nil) }
            var last = start
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            while true {
                let (frames, done) = try await read(last)
                for frame in frames {
                    try await writer.write(ByteBuffer(string: frame.text))
                    last = frame.id
                }
                if frames.count == pageSize { continue }
                if done { break }
                if await waiter.waitUnlessShuttingDown(seconds: keepAliveSeconds) { break }
                if let gather { try await Task.sleep(for: gather) }
                try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no",
        ], body: body)
    }
}
