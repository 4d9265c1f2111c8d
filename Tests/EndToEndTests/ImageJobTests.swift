import Foundation
import HTTPTypes
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing
import VipsBindings

/// Upload → job → poll → fetch, over real HTTP with a real worker.
@Suite(.ownThreads) struct ImageJobTests {
    @Test func thumbnailAndEncodeProduceDecodableFiles() async throws {
        try await Harness.run { h in
            let media = try await h.upload("photo-exif6.jpg")
            let id = try #require(media["id"]?.stringValue)
            let submitted = try await h.submit([
                "input": .string(id),
                "outputs": [
                    "square": [["op": "thumbnail", "width": 100, "height": 100, "fit": "cover"], ["op": "encode", "format": "webp", "quality": 80]],
                    "small": [["op": "thumbnail", "width": 120]],
                    "lossless": [["op": "thumbnail", "width": 60], ["op": "encode", "format": "png"]],
                ],
                "metadata": ["post": 42],
            ])
            #expect(submitted.status == .accepted)
            let jobID = try #require(try h.json(submitted)["id"]?.stringValue)
            #expect(submitted.headers[.location] == "/v1/jobs/\(jobID)")

            let job = try await h.waitForJob(jobID)
            #expect(job["status"] == "succeeded", "\(job)")
            #expect(job["progress"] == 1)
            #expect(job["metadata"] == ["post": 42])

            let expectations: [(output: String, loader: String, contentType: String, width: Int, height: Int)] = [
                ("square", "webpload", "image/webp", 100, 100),
                ("small", "jpegload", "image/jpeg", 120, 160),  // portrait after EXIF orientation 6
                ("lossless", "pngload", "image/png", 60, 80),
            ]
            for e in expectations {
                let output = try #require(job["outputs"]?[e.output])
                #expect(output["status"] == "succeeded")
                let file = try #require(output["files"]?.arrayValue?.first)
                #expect(file["contentType"]?.stringValue == e.contentType)
                #expect(file["width"]?.intValue == e.width && file["height"]?.intValue == e.height)
                let url = try #require(file["url"]?.stringValue)
                #expect(url.hasPrefix("http://kiln.test/v1/jobs/\(jobID)/files/\(e.output)/"))
                let response = try await h.fetch(url: url)
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == e.contentType)
                #expect(response.body.readableBytes == file["size"]?.intValue)
                let decoded = try Harness.decodeImage(response.body)
                #expect(decoded.loader == e.loader)
                #expect(decoded.width == e.width && decoded.height == e.height)
            }
            // Red was on the left of the stored image; after auto-orientation it is on top.
            let small = try await h.fetch(url: try #require(job["outputs"]?["small"]?["files"]?.arrayValue?.first?["url"]?.stringValue))
            let top = try Harness.decodeImage(small.body).pixel(x: 60, y: 5)
            #expect(top[0] > 150 && top[2] < 100, "expected red on top, got \(top)")
        }
    }

    @Test func namedPipelineRuns() async throws {
        try await Harness.run { h in
            let id = try #require(try await h.upload("gradient.webp")["id"]?.stringValue)
            let submitted = try await h.submit(["input": .string(id), "pipeline": "avatar"])
            #expect(submitted.status == .accepted)
            let job = try await h.waitForJob(try #require(try h.json(submitted)["id"]?.stringValue))
            #expect(job["status"] == "succeeded", "\(job)")
            let file = try #require(job["outputs"]?["avatar"]?["files"]?.arrayValue?.first)
            let decoded = try Harness.decodeImage(try await h.fetch(url: try #require(file["url"]?.stringValue)).body)
            #expect(decoded.width == 256 && decoded.height == 256)  // attention fills the box exactly
        }
    }

    @Test func truncatedJPEGFailsItsJobAndTheWorkerGoesOn() async throws {
        try await Harness.run { h in
            let failedJob = try await h.runJob(on: "truncated.jpg", [["op": "thumbnail", "width": 64], ["op": "encode", "format": "jpeg"]])
            #expect(failedJob["status"] == "failed")
            #expect(failedJob["error"]?["code"] == "invalid_input", "\(failedJob)")
            #expect(failedJob["attempt"] == 1, "bad input must not be retried")
            #expect(failedJob["outputs"]?["default"]?["files"]?.arrayValue?.isEmpty == true)

            // The same worker keeps serving.
            let job = try await h.runJob(on: "gradient.webp", [["op": "thumbnail", "width": 30]])
            #expect(job["status"] == "succeeded")
        }
    }

    @Test func anAttemptPastItsTimeoutFailsWithTimeout() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.worker.jobTimeoutSeconds = 0.001
        try await Harness.run(configuration: configuration) { h in
            let job = try await h.runJob(on: "gradient.webp", [["op": "thumbnail", "width": 30]])
            #expect(job["status"] == "failed")
            #expect(job["error"]?["code"] == "timeout")
            #expect(job["attempt"] == 1, "a timeout is not retried")
        }
    }

    @Test func decompressionBombIsRefusedFromItsHeader() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.worker.limits.maxImagePixels = 10_000  // the 300x200 gradient is 60,000
        try await Harness.run(configuration: configuration) { h in
            let job = try await h.runJob(on: "gradient.webp", [["op": "thumbnail", "width": 30]])
            #expect(job["status"] == "failed")
            #expect(job["error"]?["code"] == "input_too_large")
        }
    }
}
