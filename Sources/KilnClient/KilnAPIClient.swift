import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFileSystem
import NIOHTTP1
import PipelineEngine

/// A client of a running Kiln's HTTP API, for `kiln submit`, `status` and
/// `watch`: uploads a file (streamed from disk), submits a job, reads it, and
/// follows its Server-Sent Events.
public struct KilnAPIClient: Sendable {
    public let baseURL: String
    let key: String
    let http: HTTPClient

    public struct Failure: Error, CustomStringConvertible {
        public let status: Int
        public let body: String
        public var description: String {
            // The API's errors are {"error": {"code", "message", "pointer"?}}: show those.
            if let error = try? JSONValue.decode(Data(body.utf8))["error"], let message = error["message"]?.stringValue {
                let pointer = error["pointer"]?.stringValue.map { " at \($0)" } ?? ""
                return "HTTP \(status) \(error["code"]?.stringValue ?? ""): \(message)\(pointer)"
            }
            return "HTTP \(status): \(body.prefix(300))"
        }
    }

    public init(baseURL: String, key: String, http: HTTPClient = .shared) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = key
        self.http = http
    }

    func request(_ method: HTTPMethod, _ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "User-Agent", value: "kiln-cli/1")
        return request
    }

    func send(_ request: HTTPClientRequest, expecting: ClosedRange<Int> = 200...299) async throws -> JSONValue {
        let response = try await http.execute(request, timeout: .seconds(600))
        let body = String(buffer: try await response.body.collect(upTo: 16 << 20))
        guard expecting.contains(Int(response.status.code)) else { throw Failure(status: Int(response.status.code), body: body) }
        return try JSONValue.decode(Data(body.utf8))
    }

    /// Uploads the file at `path`, streamed; returns the media record.
    public func upload(path: String) async throws -> JSONValue {
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
            var request = request(.POST, "/v1/uploads")
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .stream(handle.readChunks(), length: .known(Int64(size)))
            return try await send(request)
        }
    }

    /// Submits a job (`{"input", "outputs" | "operations" | "pipeline", …}`); returns it.
    public func submit(_ job: JSONValue) async throws -> JSONValue {
        var request = request(.POST, "/v1/jobs")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try job.encoded()))
        return try await send(request)
    }

    public func job(_ id: String) async throws -> JSONValue {
        try await send(request(.GET, "/v1/jobs/\(id)"))
    }

    /// The job's events as they happen, from the start (or after `lastEventID`),
    /// until the server ends the stream once the job has ended.
    public func events(_ id: String, lastEventID: String? = nil, _ handle: (ServerSentEvent) async throws -> Void) async throws {
        try await stream("/v1/jobs/\(id)/events", lastEventID: lastEventID, handle)
    }

    /// Any event stream of the API (`/v1/events`: every job of the key's tenant), until the
    /// server ends it or `handle` throws.
    public func stream(_ path: String, lastEventID: String? = nil, _ handle: (ServerSentEvent) async throws -> Void) async throws {
        var request = request(.GET, path)
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await http.execute(request, timeout: .hours(24))
        guard response.status == .ok else {
            throw Failure(status: Int(response.status.code), body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        var parser = ServerSentEventParser()
        for try await buffer in response.body {
            for event in parser.feed(buffer.readableBytesView) { try await handle(event) }
        }
    }
}
