import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

@Suite struct VideoJobTests {
    @Test func probeReportsDurationAndStreams() async throws {
        try await Harness.run { h in
            let id = try #require(try await h.upload("clip.mp4")["id"]?.stringValue)
            let submitted = try await h.submit(["input": .string(id), "outputs": ["info": [["op": "probe"]]]])
            let job = try await h.waitForJob(try #require(try h.json(submitted)["id"]?.stringValue))
            #expect(job["status"] == "succeeded", "\(job)")
            let metadata = try #require(job["outputs"]?["info"]?["results"]?["metadata"])
            #expect(abs((metadata["duration"]?.doubleValue ?? 0) - 3.0) < 0.1)
            let streams = try #require(metadata["streams"]?.arrayValue)
            #expect(streams.contains { $0["kind"] == "video" && $0["codec"] == "h264" && $0["width"] == 320 })
            #expect(streams.contains { $0["kind"] == "audio" && $0["codec"] == "aac" })
        }
    }

    @Test func truncatedVideoFailsWithAClearCode() async throws {
        try await Harness.run { h in
            let media = try await h.upload("truncated.mp4")
            #expect(media["duration"] == .null)
            let job = try await h.waitForJob(try #require(try h.json(try await h.submit([
                "input": media["id"]!, "operations": [["op": "probe"]],
            ]))["id"]?.stringValue))
            #expect(job["status"] == "failed")
            #expect(job["error"]?["code"] == "invalid_input")
        }
    }

    @Test func aPosterFrameBecomesAnImageOutput() async throws {
        try await Harness.run { h in
            let job = try await h.runJob(on: "clip.mp4", [["op": "frame", "time": 1], ["op": "thumbnail", "width": 160], ["op": "encode", "format": "jpeg"]])
            #expect(job["status"] == "succeeded", "\(job)")
            let file = try #require(job["outputs"]?["default"]?["files"]?.arrayValue?.first)
            #expect(file["contentType"] == "image/jpeg" && file["width"] == 160 && file["height"] == 120)
            let decoded = try Harness.decodeImage(try await h.fetch(url: try #require(file["url"]?.stringValue)).body)
            #expect(decoded.width == 160 && decoded.height == 120 && decoded.loader == "jpegload")
        }
    }
}
