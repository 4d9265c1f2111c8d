import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// Two tenants: neither can read, list, cancel, link or download the other's
/// media, jobs, events or outputs (404, so ids do not leak), and signed links
/// open exactly what they were made for until they expire.
@Suite(.ownThreads) struct TenantIsolationTests {
    @Test func neitherTenantSeesTheOthersMediaJobsOrOutputs() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            let job = try await h.waitForJob(try #require(try h.json(try await h.submit([
                "input": .string(media), "operations": [["op": "thumbnail", "width": 16]],
            ]))["id"]?.stringValue))
            let id = try #require(job["id"]?.stringValue)
            let path = try #require(job["outputs"]?["default"]?["files"]?.arrayValue?.first?["path"]?.stringValue)
            let other = "key-b"
            for (method, uri) in [(HTTPRequest.Method.get, "/v1/media/\(media)"), (.get, "/v1/media/\(media)/content"), (.delete, "/v1/media/\(media)"),
                                  (.post, "/v1/media/\(media)/links"), (.get, "/v1/jobs/\(id)"), (.get, "/v1/jobs/\(id)/events"),
                                  (.get, "/v1/jobs/\(id)/files/\(path)"), (.post, "/v1/jobs/\(id)/cancel"), (.post, "/v1/jobs/\(id)/links")] {
                let response = try await h.request(method, uri, key: other)
                #expect(response.status == .notFound, "\(method) \(uri) as the other tenant: \(response.status)")
            }
            #expect(try h.json(try await h.request(.get, "/v1/jobs", key: other))["data"]?.arrayValue?.isEmpty == true)
            let borrowed = try await h.request(.post, "/v1/jobs", headers: [.contentType: "application/json"],
                                               body: ByteBuffer(data: (["input": .string(media), "operations": [["op": "probe"]]] as JSONValue).encoded()), key: other)
            #expect(borrowed.status == .unprocessableContent, "another tenant's media is not an input")
            // The owner still has everything.
            #expect(try await h.request(.get, "/v1/media/\(media)").status == .ok)
            #expect(try await h.request(.get, "/v1/jobs/\(id)/files/\(path)").status == .ok)
        }
    }

    @Test func signedLinksOpenWhatTheyWereMadeForUntilTheyExpire() async throws {
        try await Harness.run { h in
            let bytes = try Fixture.data("alpha.png")
            let media = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            let link = try await h.request(.post, "/v1/media/\(media)/links", headers: [.contentType: "application/json"],
                                           body: ByteBuffer(string: #"{"expiresIn": 600}"#))
            #expect(link.status == .created)
            let url = try #require(try h.json(link)["url"]?.stringValue)
            let expiresAt = try #require(try h.json(link)["expiresAt"]?.stringValue.flatMap { ISO8601DateFormatter().date(from: $0) })
            #expect(abs(expiresAt.timeIntervalSinceNow - 600) < 5)
            let path = url.replacingOccurrences(of: h.kiln.configuration.publicURL, with: "")
            #expect(path.hasPrefix("/links/"))
            let fetched = try await h.client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
            #expect(fetched.status == .ok && Data(buffer: fetched.body) == bytes, "the upload's bytes, with no key")
            let partial = try await h.client.executeRequest(uri: path, method: .get, headers: [.range: "bytes=0-7"], body: nil)
            #expect(partial.status == .partialContent && partial.body.readableBytes == 8)

            let token = String(path.dropFirst("/links/".count))
            let grant = try #require(h.kiln.playback.verify(token))
            let expired = try #require(h.kiln.playback.token(tenant: grant.tenant, subject: grant.subject, expires: Date(timeIntervalSinceNow: -5)))
            var altered = Array(token)
            altered[4] = altered[4] == "A" ? "B" : "A"
            for bad in [expired, String(altered), "nonsense"] {
                let refused = try await h.client.executeRequest(uri: "/links/\(bad)", method: .get, headers: [:], body: nil)
                #expect(refused.status == .forbidden, "\(bad)")
            }
            // A media link does not open a job's files, nor a job link an upload.
            #expect(try await h.client.executeRequest(uri: "/play/\(token)/default/x", method: .get, headers: [:], body: nil).status == .forbidden)

            let job = try await h.waitForJob(try #require(try h.json(try await h.submit([
                "input": .string(media), "operations": [["op": "thumbnail", "width": 16]],
            ]))["id"]?.stringValue))
            let jobLink = try h.json(try await h.request(.post, "/v1/jobs/\(try #require(job["id"]?.stringValue))/links"))
            let fileURL = try #require(jobLink["files"]?.arrayValue?.first?["url"]?.stringValue)
            let file = try await h.client.executeRequest(uri: fileURL.replacingOccurrences(of: h.kiln.configuration.publicURL, with: ""),
                                                         method: .get, headers: [:], body: nil)
            #expect(file.status == .ok && file.body.readableBytes > 0)
            let jobToken = try #require(fileURL.split(separator: "/").dropFirst(3).first.map(String.init))
            #expect(try await h.client.executeRequest(uri: "/links/\(jobToken)", method: .get, headers: [:], body: nil).status == .forbidden)

            let invalid = try await h.request(.post, "/v1/media/\(media)/links", headers: [.contentType: "application/json"],
                                              body: ByteBuffer(string: #"{"expiresIn": 5}"#))
            #expect(invalid.status == .unprocessableContent)
            #expect(try h.json(invalid)["error"]?["pointer"] == "/expiresIn")
        }
    }
}
