import Crypto
import Foundation
import HTTPTypes
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// A job whose input bytes and operations match an earlier succeeded job takes
/// copies of that job's files instead of running again.
@Suite(.ownThreads) struct ReuseTests {
    static let outputs: JSONValue = [
        "square": [["op": "thumbnail", "width": 90, "height": 90, "fit": "cover"], ["op": "encode", "format": "webp", "quality": 70]],
        "small": [["op": "thumbnail", "width": 64]],
    ]

    func submitAndWait(_ h: Harness, _ body: JSONValue, key: String? = nil) async throws -> JSONValue {
        var headers = h.auth([.contentType: "application/json"], key: key)
        headers[.contentType] = "application/json"
        let submitted = try await h.client.executeRequest(uri: "/v1/jobs", method: .post, headers: headers, body: ByteBuffer(data: body.encoded()))
        #expect(submitted.status == .accepted, "\(String(buffer: submitted.body))")
        let id = try #require(try h.json(submitted)["id"]?.stringValue)
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let job = try h.json(try await h.request(.get, "/v1/jobs/\(id)", key: key))
            if job["status"]?.stringValue.map({ ["succeeded", "failed", "canceled"].contains($0) }) == true { return job }
            if ContinuousClock.now > deadline { throw HarnessError("job \(id) did not finish") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Every output file's bytes, by path.
    func files(_ h: Harness, _ job: JSONValue, key: String? = nil) async throws -> [String: SHA256.Digest] {
        var digests: [String: SHA256.Digest] = [:]
        for (_, output) in try #require(job["outputs"]?.objectValue) {
            for file in try #require(output["files"]?.arrayValue) {
                let url = try #require(file["url"]?.stringValue)
                let response = try await h.request(.get, url.replacingOccurrences(of: h.kiln.configuration.publicURL, with: ""), key: key)
                #expect(response.status == .ok, "\(url)")
                digests[try #require(file["path"]?.stringValue)] = SHA256.hash(data: Data(buffer: response.body))
            }
        }
        return digests
    }

    @Test func theSameBytesAndOperationsReuseTheEarlierOutputs() async throws {
        try await Harness.run { h in
            let first = try #require(try await h.upload("photo-exif6.jpg")["id"])
            let original = try await submitAndWait(h, ["input": first, "outputs": Self.outputs])
            #expect(original["status"] == "succeeded" && original["reusedFrom"] == .null, "\(original)")
            let originalID = try #require(original["id"]?.stringValue)
            let originalFiles = try await files(h, original)
            #expect(originalFiles.count == 2)

            // The same bytes uploaded again (a new media id), the same operations: reused.
            let again = try #require(try await h.upload("photo-exif6.jpg")["id"])
            let reused = try await submitAndWait(h, ["input": again, "outputs": Self.outputs])
            #expect(reused["status"] == "succeeded", "\(reused)")
            #expect(reused["reusedFrom"]?.stringValue == originalID)
            #expect(reused["outputs"]?["square"]?["files"]?.arrayValue?.first?["width"] == 90)
            #expect(try await files(h, reused) == originalFiles, "byte for byte the earlier job's files")

            // Copies: removing the earlier job's files leaves the reusing job's whole.
            try await h.kiln.blobs.deleteAll(prefix: "jobs/\(originalID)/")
            #expect(try await files(h, reused) == originalFiles)

            // The earlier job's files are gone now: the next identical job runs (and is right).
            let rerun = try await submitAndWait(h, ["input": again, "outputs": Self.outputs])
            #expect(rerun["status"] == "succeeded", "\(rerun)")
            let reusedID = try #require(reused["id"]?.stringValue)
            #expect(rerun["reusedFrom"]?.stringValue == reusedID, "the latest identical job is the one reused")
        }
    }

    @Test func reuseIsOnlyForIdenticalWorkOfTheSameTenantAndCanBeRefused() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload("photo-exif6.jpg")["id"])
            let original = try await submitAndWait(h, ["input": media, "outputs": Self.outputs])
            #expect(original["status"] == "succeeded")
            let originalFiles = try await files(h, original)

            let refused = try await submitAndWait(h, ["input": media, "outputs": Self.outputs, "reuse": false])
            #expect(refused["status"] == "succeeded" && refused["reusedFrom"] == .null, "\(refused)")
            #expect(try await files(h, refused) == originalFiles, "run again, the same bytes: the stages are deterministic")

            let changed: JSONValue = ["square": Self.outputs["square"]!, "small": [["op": "thumbnail", "width": 65]]]
            let different = try await submitAndWait(h, ["input": media, "outputs": changed])
            #expect(different["reusedFrom"] == .null)
            #expect(different["outputs"]?["small"]?["files"]?.arrayValue?.first?["width"] == 65)

            let otherTenantMedia = try #require(try await h.upload("photo-exif6.jpg", key: "key-b")["id"])
            let otherTenant = try await submitAndWait(h, ["input": otherTenantMedia, "outputs": Self.outputs], key: "key-b")
            #expect(otherTenant["status"] == "succeeded" && otherTenant["reusedFrom"] == .null, "tenants never share outputs")

            let bad = try await h.submit(["input": media, "outputs": Self.outputs, "reuse": "no"])
            #expect(bad.status == .unprocessableContent)
            #expect(try h.json(bad)["error"]?["pointer"] == "/reuse")
        }
    }
}
