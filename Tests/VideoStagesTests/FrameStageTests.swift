import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// `frame` against the ffmpeg tool's own idea of the same frame.
@Suite(.ownThreads) struct FrameStageTests {
    /// The frame the ffmpeg command-line tool extracts (autorotated, as a player shows it).
    func ffmpegFrame(_ input: String, at seconds: Double) throws -> VipsImage {
        let path = NSTemporaryDirectory() + "ffmpeg-frame-\(UUID().uuidString).png"
        try runTool("ffmpeg", ["-v", "error", "-i", input, "-ss", String(seconds), "-frames:v", "1", path])
        return try VipsImage.open(path: path).materialized()
    }

    func meanDifference(_ a: VipsImage, _ b: VipsImage) throws -> Double {
        let x = try a.rgbBytes(), y = try b.rgbBytes()
        return zip(x, y).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(x.count)
    }

    @Test func theFrameIsTheOneFFmpegShows() async throws {
        let path = try await runOperations("clip.mp4", [["op": "frame", "time": 1.5], ["op": "encode", "format": "png"]])
        let ours = try VipsImage.open(path: path).materialized()
        let theirs = try ffmpegFrame(Fixture.path("clip.mp4"), at: 1.5)
        #expect(ours.width == 320 && ours.height == 240)
        let difference = try meanDifference(ours, theirs)
        #expect(difference < 3, "mean difference \(difference) per channel")
        let other = try ffmpegFrame(Fixture.path("clip.mp4"), at: 0.5)
        #expect(try meanDifference(ours, other) > difference + 1, "another time's frame differs more")
    }

    @Test func aRotatedVideosFrameIsUpright() async throws {
        let rotated = try Fixture.rotatedClip()
        let path = try await runOperations(rotated, [["op": "frame", "time": 1], ["op": "encode", "format": "png"]])
        let ours = try VipsImage.open(path: path).materialized()
        #expect(ours.width == 240 && ours.height == 320)
        #expect(try meanDifference(ours, try ffmpegFrame(rotated, at: 1)) < 3)
    }

    @Test func imageStepsContinueFromTheFrame() async throws {
        let outputs = try await runLocally("clip.mp4", ["outputs": [
            "poster": [["op": "frame", "percent": 50], ["op": "thumbnail", "width": 160], ["op": "encode", "format": "webp"]],
            "placeholder": [["op": "frame"], ["op": "blurhash"]],
        ]])
        let poster = try #require(outputs["poster"]?.files.first)
        let image = try VipsImage.open(path: poster.path)
        #expect(image.width == 160 && image.height == 120 && image.loader == "webpload")
        #expect(outputs["placeholder"]?.results["blurhash"]?.stringValue?.count == 28)
    }

    @Test func aVideoThumbnailIsItsFramesThumbnail() async throws {
        let direct = try await runOperations("clip.mp4", [["op": "thumbnail", "width": 160, "time": 1.5], ["op": "encode", "format": "png"]])
        let viaFrame = try await runOperations("clip.mp4", [["op": "frame", "time": 1.5], ["op": "thumbnail", "width": 160], ["op": "encode", "format": "png"]])
        let a = try VipsImage.open(path: direct).materialized(), b = try VipsImage.open(path: viaFrame).materialized()
        #expect(a.width == 160 && a.height == 120)
        #expect(try a.rgbBytes() == b.rgbBytes())
        // The middle by default; a time on an image input is refused where it stands.
        #expect(try VipsImage.open(path: try await runOperations("clip.mp4", [["op": "thumbnail", "width": 64]])).width == 64)
        let refused = await stageFailure("gradient.webp", [["op": "thumbnail", "width": 64, "time": 1]])
        #expect(refused?.message.contains("/operations/0/time") == true, "\(String(describing: refused))")
    }

    @Test func framesAreForVideoOnly() async throws {
        let failure = await stageFailure("tone.mp3", [["op": "frame"]])
        #expect(failure?.code == "unexpected", "an audio input is refused at validation: \(String(describing: failure))")
        let tooLarge = await stageFailure("clip.mp4", [["op": "frame"]], limits: ProcessingLimits(maxImagePixels: 10_000))
        #expect(tooLarge?.code == "input_too_large")
    }
}
