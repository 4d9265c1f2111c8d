import Foundation
import HTTPTypes
import HummingbirdTesting
import KilnClient
import KilnTestSupport
import NIOCore
import PipelineEngine
import Synchronization
import Testing

/// What the web console stands on: its files served at `/` (every module it
/// imports resolvable, a strict CSP, revalidation by ETag), and the tenant's
/// event stream that keeps its job list live. The page itself is driven in
/// Chromium by Tests/Browser/console_test.py (`make test` runs it).
@Suite(.ownThreads) struct ConsoleTests {
    @Test func thePageAndEveryModuleItImportsAreServedUnderAStrictPolicy() async throws {
        try await Harness.run(withWorkers: false) { h in
            let page = try await h.client.executeRequest(uri: "/", method: .get, headers: [:], body: nil)
            #expect(page.status == .ok && page.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(page.headers[HTTPField.Name("Content-Security-Policy")!])
            #expect(policy.contains("default-src 'self'") && policy.contains("script-src 'self'") && !policy.contains("unsafe"))
            let html = String(buffer: page.body)
            // Every stylesheet and module the page names, and every module those import.
            var pending = html.matches(of: /(?:href|src)="(\/console\/[^"]+)"/).map { String($0.output.1) }
            var seen: Set<String> = []
            while let path = pending.popLast() {
                guard seen.insert(path).inserted else { continue }
                let response = try await h.client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
                #expect(response.status == .ok, "\(path)")
                let text = String(buffer: response.body)
                if path.hasSuffix(".js") {
                    #expect(response.headers[.contentType] == "text/javascript; charset=utf-8")
                    let directory = (path as NSString).deletingLastPathComponent
                    for match in text.matches(of: /from "\.\/([^"]+)"/) { pending.append(directory + "/" + match.output.1) }
                }
            }
            #expect(seen.contains("/console/js/main.js") && seen.contains("/console/console.css") && seen.count >= 10, "\(seen.sorted())")
            let etag = try #require(page.headers[.eTag])
            #expect(try await h.client.executeRequest(uri: "/", method: .get, headers: [.ifNoneMatch: etag], body: nil).status == .notModified)
            for missing in ["/console/nothing.js", "/console/../Package.swift", "/console/js/../../Package.swift"] {
                #expect(try await h.client.executeRequest(uri: missing, method: .get, headers: [:], body: nil).status == .notFound, "\(missing)")
            }
        }
    }

    struct Seen: Error {}

    /// `GET /v1/events`: every job of the key's tenant, none of another's, resumable with Last-Event-ID.
    @Test func theTenantStreamCarriesEveryJobOfTheTenantAndNoOther() async throws {
        try await Harness.run { h in
            let port = try #require(h.client.port)
            let client = KilnAPIClient(baseURL: "http://127.0.0.1:\(port)", key: "key-a")
            let media = try #require(try await h.upload("gradient.webp")["id"])
            let otherMedia = try #require(try await h.upload("gradient.webp", key: "key-b")["id"])

            /// Frames until both of `ids` were seen succeeding.
            @Sendable func collect(_ ids: @escaping @Sendable () -> Set<String>, after: String? = nil) async throws -> [(id: String, job: String, data: JSONValue)] {
                var frames: [(id: String, job: String, data: JSONValue)] = []
                do {
                    try await client.stream("/v1/events", lastEventID: after) { event in
                        let data = try JSONValue.decode(Data(event.data.utf8))
                        frames.append((event.id ?? "", data["jobId"]?.stringValue ?? "", data))
                        let done = Set(frames.filter { $0.data["status"] == "succeeded" && $0.data["attempt"] != nil }.map(\.job))
                        if !ids().isEmpty, ids().isSubset(of: done) { throw Seen() }
                    }
                } catch is Seen {}
                return frames
            }
            let submitted = Mutex<Set<String>>([])
            let listening = Task { try await collect({ submitted.withLock { $0 } }) }
            try await Task.sleep(for: .milliseconds(500))  // the stream starts from now
            let other = try #require(try h.json(try await h.request(.post, "/v1/jobs", headers: [.contentType: "application/json"],
                body: ByteBuffer(data: JSONValue.object(["input": otherMedia, "operations": [["op": "thumbnail", "width": 20]]]).encoded()),
                key: "key-b"))["id"]?.stringValue)
            var ids: Set<String> = []
            for width in [30, 40] {
                ids.insert(try #require(try h.json(try await h.submit(["input": media, "operations": [["op": "thumbnail", "width": .number(Double(width))]]]))["id"]?.stringValue))
            }
            submitted.withLock { $0 = ids }
            let expected = ids
            let frames = try await withThrowingTaskGroup(of: [(id: String, job: String, data: JSONValue)].self) { group in
                group.addTask { try await listening.value }
                group.addTask { try await Task.sleep(for: .seconds(30)); listening.cancel(); throw HarnessError("the stream did not show both jobs succeeding") }
                defer { group.cancelAll() }
                return try #require(try await group.next())
            }
            #expect(Set(frames.map(\.job)) == ids, "only this tenant's jobs: \(Set(frames.map(\.job))), other tenant's \(other)")
            #expect(frames.contains { $0.data["status"] == "running" })
            let numbers = frames.compactMap { Int64($0.id) }
            #expect(numbers == numbers.sorted() && numbers.count == frames.count)

            // Resumed after the first frame: the rest again, nothing before it.
            let resumed = try await collect({ expected }, after: frames[0].id)
            #expect(resumed.first.flatMap { Int64($0.id) } == numbers.dropFirst().first)
        }
    }
}
