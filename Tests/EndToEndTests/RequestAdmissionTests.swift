import HTTPTypes
@testable import KilnApp
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import KilnTestSupport
import Testing

/// Beyond the limit a request's head is held, unhandled, and its connection is
/// not read, until a request ends; long polls and event streams are not counted.
@Suite(.ownThreads) struct RequestAdmissionTests {
    func connection(_ admission: RequestAdmission, on loop: EmbeddedEventLoop) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(admission.handler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func head(_ path: String, prefer: String? = nil, method: HTTPRequest.Method = .post) -> HTTPRequestPart {
        var request = HTTPRequest(method: method, scheme: "http", authority: "kiln", path: path)
        if let prefer { request.headerFields[HTTPField.Name("Prefer")!] = prefer }
        return .head(request)
    }

    @Test func aRequestBeyondTheLimitWaitsUntilOneEnds() throws {
        let loop = EmbeddedEventLoop()
        let admission = RequestAdmission(limit: 1)
        let first = try connection(admission, on: loop), second = try connection(admission, on: loop)

        try first.writeInbound(head("/v1/uploads"))
        #expect(try first.readInbound(as: HTTPRequestPart.self) != nil, "the first request is handled")
        try second.writeInbound(head("/v1/uploads"))
        try second.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "bytes")))
        #expect(try second.readInbound(as: HTTPRequestPart.self) == nil, "the second waits, unhandled")

        // A long poll and an event stream (GETs that wait by design) pass whatever the count.
        let poll = try connection(admission, on: loop), stream = try connection(admission, on: loop)
        try poll.writeInbound(head("/v1/jobs/job_x?wait=30", method: .get))
        try stream.writeInbound(head("/v1/jobs/job_x/events", method: .get))
        #expect(try poll.readInbound(as: HTTPRequestPart.self) != nil)
        #expect(try stream.readInbound(as: HTTPRequestPart.self) != nil)

        try first.writeOutbound(HTTPResponsePart.end(nil))
        loop.run()
        guard case .head = try second.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("the waiting request's head is handed on once the first ends")
            return
        }
        guard case .body = try second.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("and the body that arrived with it")
            return
        }
        #expect(admission.inFlight == 1)

        // A closed connection gives its place back.
        _ = try? second.close().wait()
        loop.run()
        #expect(admission.inFlight == 0)
    }

    /// A request with a body that then waits (`Prefer: wait`) is counted while its body comes in,
    /// so slow uploads cannot pass the bound by asking to wait; once its body is in, it waits
    /// holding no place.
    @Test func aRequestThatWaitsHoldsAPlaceOnlyUntilItsBodyIsIn() throws {
        let loop = EmbeddedEventLoop()
        let admission = RequestAdmission(limit: 1)
        let submission = try connection(admission, on: loop), upload = try connection(admission, on: loop)
        let sneaky = try connection(admission, on: loop)

        try submission.writeInbound(head("/v1/jobs", prefer: "wait=30"))
        try submission.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{\"input\": ")))
        #expect(admission.inFlight == 1, "counted while its body comes in")
        try sneaky.writeInbound(head("/v1/uploads", prefer: "wait=30"))
        #expect(try sneaky.readInbound(as: HTTPRequestPart.self) == nil, "an upload asking to wait is parked like any other")
        try upload.writeInbound(head("/v1/uploads"))
        #expect(try upload.readInbound(as: HTTPRequestPart.self) == nil)

        try submission.writeInbound(HTTPRequestPart.end(nil))
        loop.run()
        // Its body is in: its place went to the oldest parked request before any answer was written.
        guard case .head = try sneaky.readInbound(as: HTTPRequestPart.self) else {
            Issue.record("the place is handed on when the waiting request's body ended")
            return
        }
        #expect(admission.inFlight == 1)
        #expect(try upload.readInbound(as: HTTPRequestPart.self) == nil, "one place, one request")
        // The submission's answer, when it comes, gives back nothing more.
        try submission.writeOutbound(HTTPResponsePart.end(nil))
        loop.run()
        #expect(admission.inFlight == 1)
    }
}
