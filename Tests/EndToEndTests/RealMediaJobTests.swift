import Foundation
import HTTPTypes
import HummingbirdTesting
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing
import VipsBindings

/// A few cells of the conformance matrix over the real API: full-size phone
/// media uploaded, processed by a worker, fetched and decoded. The matrix itself
/// (Tests/ConformanceTests) drives the engine in process.
@Suite(.ownThreads) struct RealMediaJobTests {
    func outputImage(_ h: Harness, _ job: JSONValue, _ output: String) async throws -> VipsImage {
        let file = try #require(job["outputs"]?[output]?["files"]?.arrayValue?.first, "\(output): \(job)")
        let response = try await h.request(.get, "/v1/jobs/\(try #require(job["id"]?.stringValue))/files/\(try #require(file["path"]?.stringValue))")
        #expect(response.status == .ok)
        return try Harness.decodeImage(response.body)
    }

    /// A 12 MP photo a phone held upright took (stored 4032x3024, EXIF orientation 6).
    @Test func aPortraitPhonePhotoThroughEveryAccessPattern() async throws {
        let photo = try Fixture.corpus("jpeg-12mp-o6.jpg")
        try await Harness.run { h in
            let media = try await h.upload(photo)
            #expect(media["width"] == 3024 && media["height"] == 4032, "the record gives the size as displayed: \(media)")
            let submitted = try await h.submit(["input": try #require(media["id"]), "outputs": [
                "flipped": [["op": "flip"], ["op": "encode", "format": "webp"]],
                "turned": [["op": "rotate", "angle": 90]],
                "smart": [["op": "crop", "width": 1000, "height": 800, "gravity": "attention"]],
                "thumb": [["op": "thumbnail", "width": 320]],
            ]])
            let job = try await h.waitForJob(try #require(try h.json(submitted)["id"]?.stringValue), timeout: .seconds(120))
            #expect(job["status"] == "succeeded", "\(job)")
            let flipped = try await outputImage(h, job, "flipped")
            let flippedMarkers = try flipped.showsMarkers(.flip)
            #expect(flipped.width == 3024 && flipped.height == 4032 && flippedMarkers)
            let turned = try await outputImage(h, job, "turned")
            let turnedMarkers = try turned.showsMarkers(.quarter)
            #expect(turned.width == 4032 && turned.height == 3024 && turnedMarkers)
            let smart = try await outputImage(h, job, "smart")
            #expect(smart.width == 1000 && smart.height == 800)
            let thumb = try await outputImage(h, job, "thumb")
            let thumbMarkers = try thumb.showsMarkers(.none)
            #expect(thumb.width == 320 && thumb.height == 427 && thumbMarkers)
        }
    }

    /// A phone's HEVC MOV with a display matrix: WebM (which has none) and HLS come out upright.
    @Test func aPhoneVideoComesOutUprightEverywhere() async throws {
        let clip = try Fixture.corpus("phone-hevc-rot90.mov")
        try await Harness.run { h in
            let media = try await h.upload(clip)
            #expect(media["width"] == 1080 && media["height"] == 1920, "\(media)")
            let submitted = try await h.submit(["input": try #require(media["id"]), "outputs": [
                "poster": [["op": "frame", "time": 1]],
                "small": [["op": "transcode", "format": "webm", "height": 320, "preset": "ultrafast"]],
                "stream": [["op": "hls", "renditions": [["height": 360]], "segmentSeconds": 1, "preset": "ultrafast"]],
            ]])
            let id = try #require(try h.json(submitted)["id"]?.stringValue)
            let job = try await h.waitForJob(id, timeout: .seconds(120))
            #expect(job["status"] == "succeeded", "\(job)")
            let poster = try await outputImage(h, job, "poster")
            let posterMarkers = try poster.showsMarkers(.none)
            #expect(poster.width == 1080 && poster.height == 1920 && posterMarkers)
            let small = try #require(job["outputs"]?["small"]?["files"]?.arrayValue?.first)
            #expect(small["width"] == 180 && small["height"] == 320, "a WebM is turned upright: \(small)")
            let playlists = try await HLSJobTests.fetchAll(h, base: "/v1/jobs/\(id)/files", master: "stream/master.m3u8", key: h.key)
            #expect(playlists.count == 2 && playlists.values.allSatisfy { $0.contains("#EXT-X-ENDLIST") })
        }
    }

    /// A chat app's voice note (Opus in Ogg, mono 16 kHz): transcoded and drawn as a waveform.
    @Test func aVoiceNote() async throws {
        let note = try Fixture.corpus("voice-note.ogg")
        try await Harness.run { h in
            let media = try await h.upload(note)
            #expect(media["kind"] == "audio" && abs((media["duration"]?.doubleValue ?? 0) - 3) < 0.05, "\(media)")
            let submitted = try await h.submit(["input": try #require(media["id"]), "outputs": [
                "aac": [["op": "audio", "format": "aac", "bitRate": 48]],
                "peaks": [["op": "waveform", "points": 100]],
            ]])
            let id = try #require(try h.json(submitted)["id"]?.stringValue)
            let job = try await h.waitForJob(id, timeout: .seconds(60))
            #expect(job["status"] == "succeeded", "\(job)")
            let file = try #require(job["outputs"]?["aac"]?["files"]?.arrayValue?.first)
            let response = try await h.request(.get, "/v1/jobs/\(id)/files/\(try #require(file["path"]?.stringValue))")
            let local = NSTemporaryDirectory() + "kiln-note-\(UUID().uuidString).m4a"
            try Data(buffer: response.body).write(to: URL(fileURLWithPath: local))
            defer { try? FileManager.default.removeItem(atPath: local) }
            let probed = String(decoding: try runTool("ffprobe", ["-v", "error", "-show_entries", "stream=codec_name,channels:format=duration",
                                                                  "-of", "csv=p=0", local]), as: UTF8.self)
            #expect(probed.contains("aac,1"), "mono AAC: \(probed)")
            let seconds = Double(probed.split(separator: "\n").last.map(String.init) ?? "") ?? 0
            #expect(abs(seconds - 3) < 0.1, "\(probed)")
            #expect(job["outputs"]?["peaks"]?["results"]?["waveform"]?["data"]?.arrayValue?.count == 200)
        }
    }

    /// Video edits and an APNG through a worker: a round note with a caption at twice the speed, and
    /// an animated PNG, whose frames FFmpeg decodes, thumbnailed as an animation.
    @Test func aRoundVideoNoteAndAnAnimatedPNG() async throws {
        try await Harness.run { h in
            let video = try await h.upload(try Fixture.corpus("phone-hevc-rot90.mov"))
            let note = try await h.submit(["input": try #require(video["id"]), "outputs": ["note": [
                ["op": "videoCrop", "shape": "circle"], ["op": "videoWatermark", "text": "Kiln", "gravity": "south"],
                ["op": "speed", "factor": 2], ["op": "transcode", "width": 240, "preset": "ultrafast"],
            ]]])
            let apng = try await h.upload(try Fixture.corpus("animated.png"))
            #expect(apng["kind"] == "image", "\(apng)")
            let animated = try await h.submit(["input": try #require(apng["id"]), "outputs": [
                "thumb": [["op": "thumbnail", "width": 120]], "meta": [["op": "metadata"]],
            ]])
            let noteJob = try await h.waitForJob(try #require(try h.json(note)["id"]?.stringValue), timeout: .seconds(120))
            #expect(noteJob["status"] == "succeeded", "\(noteJob)")
            let file = try #require(noteJob["outputs"]?["note"]?["files"]?.arrayValue?.first)
            #expect(file["width"] == 240 && file["height"] == 240 && abs((file["duration"]?.doubleValue ?? 0) - 1) < 0.05, "\(file)")
            let animatedJob = try await h.waitForJob(try #require(try h.json(animated)["id"]?.stringValue), timeout: .seconds(120))
            #expect(animatedJob["status"] == "succeeded", "\(animatedJob)")
            let thumb = try #require(animatedJob["outputs"]?["thumb"]?["files"]?.arrayValue?.first)
            #expect(thumb["contentType"] == "image/webp" && thumb["width"] == 120, "\(thumb)")
            #expect(animatedJob["outputs"]?["meta"]?["results"]?["metadata"]?["frames"] == 32)
        }
    }

    /// The byte-mutated clip that aborted libswscale inside `kiln serve`: as a job it fails with a
    /// code on its first attempt, the API answers throughout, and the next job runs.
    @Test func theClipThatTookTheServerDownFailsWithACode() async throws {
        try await Harness.run { h in
            let job = try await h.runJob(on: "hostile/hls-swscale-abort.mp4", [["op": "hls", "renditions": [["height": 240]], "segmentSeconds": 2]])
            #expect(job["status"] == "failed" && job["error"]?["code"] == "invalid_input" && job["attempt"] == 1, "\(job)")
            #expect(try await h.request(.get, "/healthz").status == .ok)
            let next = try await h.runJob(on: "clip.mp4", [["op": "frame"]])
            #expect(next["status"] == "succeeded", "\(next)")
        }
    }
}
