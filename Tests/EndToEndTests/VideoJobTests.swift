import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

@Suite(.ownThreads) struct VideoJobTests {
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

    /// A voice note as a chat app wants it: Opus for playback, loudness evened out, a waveform to draw.
    @Test func aVoiceNoteBecomesOpusALevelledM4AAndAWaveform() async throws {
        try await Harness.run { h in
            let id = try #require(try await h.upload("tone.mp3")["id"]?.stringValue)
            let submitted = try await h.submit(["input": .string(id), "outputs": [
                "playback": [["op": "audio", "format": "opus", "bitRate": 32]],
                "levelled": [["op": "loudnorm", "target": -16, "format": "aac"]],
                "shape": [["op": "waveform", "points": 100]],
            ]])
            let job = try await h.waitForJob(try #require(try h.json(submitted)["id"]?.stringValue))
            #expect(job["status"] == "succeeded", "\(job)")
            let playback = try #require(job["outputs"]?["playback"]?["files"]?.arrayValue?.first)
            #expect(playback["contentType"] == "audio/ogg" && abs((playback["duration"]?.doubleValue ?? 0) - 2) < 0.1)
            let fetched = try await h.fetch(url: try #require(playback["url"]?.stringValue))
            #expect(fetched.status == .ok && fetched.headers[.contentType] == "audio/ogg")
            #expect(fetched.body.readableBytes == playback["size"]?.intValue)
            #expect(job["outputs"]?["levelled"]?["results"]?["loudness"]?["target"] == -16)
            #expect(job["outputs"]?["shape"]?["results"]?["waveform"]?["data"]?.arrayValue?.count == 200)
        }
    }

    @Test func aStoryboardPublishesItsSpriteAndCues() async throws {
        try await Harness.run { h in
            let job = try await h.runJob(on: "clip.mp4", [["op": "storyboard", "count": 4, "columns": 2, "width": 64]])
            #expect(job["status"] == "succeeded", "\(job)")
            let files = try #require(job["outputs"]?["default"]?["files"]?.arrayValue)
            #expect(Set(files.compactMap { $0["contentType"]?.stringValue }) == ["image/jpeg", "text/vtt"])
            let vtt = try #require(files.first { $0["contentType"] == "text/vtt" })
            let body = try await h.fetch(url: try #require(vtt["url"]?.stringValue))
            #expect(body.headers[.contentType]?.hasPrefix("text/vtt") == true)
            #expect(String(buffer: body.body).contains("default.jpg#xywh=64,0,64,48"))
        }
    }

    @Test func aTranscodeIsServedAsVideoThatFFprobeReads() async throws {
        try await Harness.run { h in
            let job = try await h.runJob(on: "clip.mp4", [["op": "transcode", "width": 160, "crf": 30]])
            #expect(job["status"] == "succeeded", "\(job)")
            let file = try #require(job["outputs"]?["default"]?["files"]?.arrayValue?.first)
            #expect(file["contentType"] == "video/mp4" && file["width"] == 160 && file["height"] == 120)
            let response = try await h.fetch(url: try #require(file["url"]?.stringValue), headers: [.range: "bytes=0-1023"])
            #expect(response.status == .partialContent && response.body.readableBytes == 1024)
            let whole = try await h.fetch(url: try #require(file["url"]?.stringValue))
            let path = NSTemporaryDirectory() + "served-\(UUID().uuidString).mp4"
            try Data(buffer: whole.body).write(to: URL(fileURLWithPath: path))
            let codecs = String(decoding: try runTool("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path]),
                                as: UTF8.self)
            #expect(codecs.contains("h264") && codecs.contains("aac"), "\(codecs)")
        }
    }
}
