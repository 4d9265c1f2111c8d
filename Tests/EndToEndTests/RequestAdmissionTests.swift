import HTTPTypes
@testable import KilnApp
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

/// Beyond the limit a request's head is held, unhandled, and its connection is
/// not read, until a request ends; long polls and event streams are not counted.
@Suite struct RequestAdmissionTests {
    func connection(_ admission: RequestAdmission, on loop: EmbeddedEventLoop) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(admission.handler())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func head(_ path: String, prefer: String? = nil) -> HTTPRequestPart {
        var request = HTTPRequest(method: .post, scheme: "http", authority: "kiln", path: path)
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

        // A long poll and an event stream pass whatever the count.
        let poll = try connection(admission, on: loop), stream = try connection(admission, on: loop)
        try poll.writeInbound(head("/v1/jobs", prefer: "wait=30"))
        try stream.writeInbound(head("/v1/jobs/job_x/events"))
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
}
