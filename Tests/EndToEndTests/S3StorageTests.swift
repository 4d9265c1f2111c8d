import Foundation
import HTTPTypes
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Storage
import Testing

/// Kiln with its uploads and outputs in an S3 bucket (the S3 server `make test`
/// starts, signatures checked): what a multi-host deployment runs.
@Suite(.ownThreads) struct S3StorageTests {
    @Test func imagesGoThroughTheBucketAndDeletionsReachIt() async throws {
        let configuration = try await TestEnvironment.s3Configuration()
        let bucket = try S3BlobStore(location: try #require(configuration.s3), stagingDirectory: configuration.storageRoot)
        try await Harness.run(configuration: configuration) { h in
            let media = try await h.upload("photo-exif6.jpg")
            let mediaID = try #require(media["id"]?.stringValue)
            let original = try Fixture.data("photo-exif6.jpg")
            #expect(try await bucket.size(key: "media/tenant-a/\(mediaID)") == original.count, "the upload is in the bucket")
            let range = try await h.request(.get, "/v1/media/\(mediaID)/content", headers: [.range: "bytes=100-199"])
            #expect(range.status == .partialContent && Data(buffer: range.body) == original[100..<200])

            let submitted = try await h.submit([
                "input": .string(mediaID),
                "outputs": [
                    "square": [["op": "thumbnail", "width": 100, "height": 100, "fit": "cover"], ["op": "encode", "format": "webp"]],
                    "small": [["op": "thumbnail", "width": 120]],
                ],
            ])
            let jobID = try #require(try h.json(submitted)["id"]?.stringValue)
            let job = try await h.waitForJob(jobID)
            #expect(job["status"] == "succeeded", "\(job)")
            for (output, width, height) in [("square", 100, 100), ("small", 120, 160)] {
                let file = try #require(job["outputs"]?[output]?["files"]?.arrayValue?.first)
                let response = try await h.fetch(url: try #require(file["url"]?.stringValue))
                #expect(response.status == .ok && response.body.readableBytes == file["size"]?.intValue)
                let decoded = try Harness.decodeImage(response.body)
                #expect(decoded.width == width && decoded.height == height)
            }
            let published = try await bucket.list(prefix: "jobs/\(jobID)/")
            #expect(published.count == 2, "exactly the winning attempt's two files: \(published)")

            #expect(try await h.request(.delete, "/v1/media/\(mediaID)").status == .noContent)
            #expect(try await bucket.size(key: "media/tenant-a/\(mediaID)") == nil, "deleting the media deletes its object")
        }
    }

    /// An API-only process and a `kiln worker` process share nothing but PostgreSQL
    /// and the bucket: the input reaches the worker, the ladder reaches the player.
    @Test func aWorkerProcessPublishesAnHLSLadderThePlayerFetchesThroughTheAPI() async throws {
        let configuration = try await TestEnvironment.s3Configuration()
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let worker = try KilnProcess(["worker"], configuration: configuration, name: "s3-worker")
            defer { worker.signal(SIGKILL) }
            let job = try await h.runJob(on: "clip.mp4", [["op": "hls", "renditions": [["height": 240], ["height": 120]], "segmentSeconds": 1]])
            #expect(job["status"] == "succeeded", "\(job) \((try? String(contentsOfFile: worker.logPath, encoding: .utf8)) ?? "")")
            let id = try #require(job["id"]?.stringValue)
            let playlists = try await HLSJobTests.fetchAll(h, base: "/v1/jobs/\(id)/files", master: "default/master.m3u8", key: h.key)
            #expect(playlists.count == 3)
            let port = try #require(h.client.port)
            let frames = try await HLSJobTests.play("http://127.0.0.1:\(port)/v1/jobs/\(id)/files/default/master.m3u8",
                                                    headers: "Authorization: Bearer \(h.key)\r\n")
            #expect(frames == 75, "every frame of the 3 s clip at 25 fps")
        }
    }
}
