import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobStore
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Storage
import Testing
import VipsBindings

/// A running Kiln (HTTP + workers, real PostgreSQL, real loopback HTTP) and a
/// client with helpers for the calls every test makes.
struct Harness: Sendable {
    let client: any TestClientProtocol
    let kiln: Kiln
    var key = "key-a"

    static func run(configuration: KilnConfiguration? = nil, withWorkers: Bool = true, blobs: (any BlobStore)? = nil,
                    _ body: @Sendable @escaping (Harness) async throws -> Void) async throws {
        let kiln = try Kiln(configuration: try configuration ?? TestEnvironment.configuration(), logger: TestEnvironment.logger(), blobs: blobs)
        let app = try kiln.makeApplication(withWorkers: withWorkers)
        try await onOwnThreads {
            try await app.test(.live) { client in
                let harness = Harness(client: client, kiln: kiln)
                try await harness.waitUntilReady()
                try await body(harness)
            }
        }
    }

    /// Runs the Kiln (its server, workers and this test's body) on two threads of its
    /// own, as `kiln serve` has its process's pool to itself: see `DedicatedExecutor`.
    static func onOwnThreads(_ body: () async throws -> Void) async throws {
        let executor = DedicatedExecutor(threads: 2, name: "kiln-test-server")
        defer { executor.shutdown() }
        try await withTaskExecutorPreference(executor, operation: body)
    }

    /// The server listens before migrations finish; wait for readiness.
    func waitUntilReady(timeout: Duration = .seconds(90)) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await client.executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil).status != .ok {
            if ContinuousClock.now > deadline { throw HarnessError("Kiln did not become ready") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs Kiln without waiting for readiness (for tests of start-up itself).
    static func runUnready(configuration: KilnConfiguration, _ body: @Sendable @escaping (Harness) async throws -> Void) async throws {
        let kiln = try Kiln(configuration: configuration, logger: TestEnvironment.logger())
        let app = try kiln.makeApplication(withWorkers: true)
        try await onOwnThreads {
            try await app.test(.live) { client in
                try await body(Harness(client: client, kiln: kiln))
            }
        }
    }

    func auth(_ extra: HTTPFields = [:], key: String? = nil) -> HTTPFields {
        var headers = extra
        headers[.authorization] = "Bearer \(key ?? self.key)"
        return headers
    }

    func request(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: ByteBuffer? = nil, key: String? = nil) async throws -> TestResponse {
        try await client.executeRequest(uri: uri, method: method, headers: auth(headers, key: key), body: body)
    }

    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONValue.decode(Data(buffer: response.body))
    }

    /// Uploads a fixture as a raw body; returns the media record.
    func upload(_ fixture: String, key: String? = nil) async throws -> JSONValue {
        let response = try await request(.post, "/v1/uploads", headers: [.contentType: "application/octet-stream"],
                                         body: ByteBuffer(data: try Fixture.data(fixture)), key: key)
        #expect(response.status == .created, "upload of \(fixture): \(String(buffer: response.body))")
        return try json(response)
    }

    func submit(_ body: JSONValue, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await request(.post, "/v1/jobs", headers: headers, body: ByteBuffer(data: body.encoded()))
    }

    /// Polls the job until it ends (or `timeout` passes).
    func waitForJob(_ id: String, timeout: Duration = .seconds(60)) async throws -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            let job = try json(try await request(.get, "/v1/jobs/\(id)"))
            if let status = job["status"]?.stringValue, ["succeeded", "failed", "canceled"].contains(status) { return job }
            if ContinuousClock.now > deadline { throw HarnessError("job \(id) did not finish: \(job)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Uploads a fixture, submits `operations` on it as the `default` output, and waits for the job to end.
    func runJob(on fixture: String, _ operations: JSONValue) async throws -> JSONValue {
        let media = try #require(try await upload(fixture)["id"])
        let submitted = try await submit(["input": media, "operations": operations])
        return try await waitForJob(try #require(try json(submitted)["id"]?.stringValue))
    }

    /// Fetches a file by its absolute URL (the public base is replaced by the test server).
    func fetch(url: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        let path = url.replacingOccurrences(of: kiln.configuration.publicURL, with: "")
        return try await request(.get, path, headers: headers)
    }

    /// Decodes bytes with libvips (through a temporary file).
    static func decodeImage(_ buffer: ByteBuffer) throws -> VipsImage {
        let path = NSTemporaryDirectory() + "kiln-decoded-" + UUID().uuidString
        try Data(buffer: buffer).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try VipsImage.open(path: path).materialized()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
