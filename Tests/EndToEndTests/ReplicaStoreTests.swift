import Foundation
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Storage
import Testing

/// `KILN_REPLICA_STORAGE`: uploads and outputs the store lost are still served,
/// read from the deployment's mirror of it.
@Suite(.ownThreads) struct ReplicaStoreTests {
    @Test func whatTheStoreLostIsServedFromItsMirror() async throws {
        var configuration = try TestEnvironment.configuration()
        let mirror = NSTemporaryDirectory() + "kiln-mirror-" + UUID().uuidString
        configuration.replica = .directory(mirror)
        try await Harness.run(configuration: configuration) { [configuration] h in
            let media = try #require(try await h.upload("photo-exif6.jpg")["id"]?.stringValue)
            let job = try await h.waitForJob(try #require(try h.json(try await h.submit([
                "input": .string(media), "operations": [["op": "thumbnail", "width": 120], ["op": "encode", "format": "webp"]],
            ]))["id"]?.stringValue))
            #expect(job["status"] == "succeeded", "\(job)")
            let file = try #require(job["outputs"]?["default"]?["files"]?.arrayValue?.first)
            let url = try #require(file["url"]?.stringValue)
            let served = try await h.fetch(url: url)
            let original = try Fixture.data("photo-exif6.jpg")

            // The deployment mirrored the store, then the store lost everything.
            try FileManager.default.copyItem(atPath: configuration.storageRoot, toPath: mirror + "-copy")
            try FileManager.default.removeItem(atPath: mirror)
            try FileManager.default.moveItem(atPath: mirror + "-copy", toPath: mirror)
            for entry in try FileManager.default.contentsOfDirectory(atPath: configuration.storageRoot) where entry != "staging" {
                try FileManager.default.removeItem(atPath: configuration.storageRoot + "/" + entry)
            }
            #expect(try await LocalBlobStore(root: configuration.storageRoot).size(key: "media/tenant-a/\(media)") == nil)

            let content = try await h.request(.get, "/v1/media/\(media)/content")
            #expect(content.status == .ok && Data(buffer: content.body) == original, "the upload, from the mirror")
            let range = try await h.request(.get, "/v1/media/\(media)/content", headers: [.range: "bytes=100-199"])
            #expect(range.status == .partialContent && Data(buffer: range.body) == original[100..<200])
            let output = try await h.fetch(url: url)
            #expect(output.status == .ok && output.body == served.body, "the thumbnail, from the mirror")
            // A worker reads its input from the mirror too.
            let again = try await h.waitForJob(try #require(try h.json(try await h.submit([
                "input": .string(media), "operations": [["op": "thumbnail", "width": 64]], "reuse": false,
            ]))["id"]?.stringValue))
            #expect(again["status"] == "succeeded", "\(again)")
        }
    }

    @Test func theReplicaIsConfiguredLikeTheStore() throws {
        let base = ["DATABASE_URL": "postgres://localhost/kiln", "KILN_STORAGE": "s3://primary/kiln", "S3_ENDPOINT": "http://127.0.0.1:9000",
                    "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_REGION": "eu-west-1"]
        var env = base
        env["KILN_REPLICA_STORAGE"] = "s3://mirror/kiln"
        env["KILN_REPLICA_S3_ENDPOINT"] = "https://mirror.example.com"
        env["KILN_REPLICA_AWS_SECRET_ACCESS_KEY"] = "c"
        guard case let .s3(location) = try KilnConfiguration.fromEnvironment(env).replica else {
            Issue.record("no S3 replica")
            return
        }
        #expect(location.bucket == "mirror" && location.host == "mirror.example.com" && location.scheme == "https")
        #expect(location.credentials.accessKeyID == "a" && location.credentials.secretAccessKey == "c", "its own secret, the store's key id")
        env["KILN_REPLICA_STORAGE"] = "/srv/mirror"
        #expect(try KilnConfiguration.fromEnvironment(env).replica == .directory("/srv/mirror"))
        #expect(try KilnConfiguration.fromEnvironment(base).replica == nil)
    }
}
