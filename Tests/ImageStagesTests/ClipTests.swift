import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// `clip`: seconds of a phone video as an animation, each frame the one ffmpeg
/// shows at its time, upright, through the image steps and out as a loop.
@Suite(.ownThreads) struct ClipTests {
    /// A portrait phone clip stored turned (display matrix): frames come out upright.
    static let video = "corpus/phone-hevc-rot90.mov"

    /// ffmpeg's own decode of the frame shown at `seconds`, upright, at `width` (scaled by libvips as Kiln scales).
    static func ffmpegFrame(_ path: String, at seconds: Double, width: Int) async throws -> VipsImage {
        let still = NSTemporaryDirectory() + "kiln-clip-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: still) }
        // HD video is BT.709, as players (and Kiln) read it; the ffmpeg tool's default would be BT.601.
        _ = try await runToolOffPool("ffmpeg", ["-v", "error", "-i", path, "-ss", String(seconds), "-frames:v", "1",
                                                "-vf", "scale=in_color_matrix=bt709:flags=accurate_rnd+full_chroma_int", still])
        let full = try VipsImage.open(path: still).materialized()
        let scale = Double(width) / Double(full.width)
        return try full.resized(xScale: scale, yScale: scale).materialized()
    }

    static func meanDifference(_ a: VipsImage, _ b: VipsImage) throws -> Double {
        let x = try a.rgbBytes(), y = try b.rgbBytes()
        return zip(x, y).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(max(1, min(x.count, y.count)))
    }

    @Test func aClipIsEveryFrameAtItsTimeUpright() async throws {
        let source = Fixture.path(Self.video)
        let path = try await runOperations(Self.video, [["op": "clip", "start": 0.2, "duration": 1.5, "fps": 10, "width": 240],
                                                        ["op": "encode", "format": "webp", "lossless": true]])
        let header = try VipsImage.open(path: path)
        let stacked = try VipsImage.openAllPages(path: path, loader: try #require(header.loader))
        #expect(stacked.pageCount == 15 && Set(stacked.frameDelays) == [100], "\(stacked.pageCount) frames, delays \(Set(stacked.frameDelays))")
        let frames = try stacked.pages().map { try $0.materialized() }
        #expect(frames[0].width == 240 && frames[0].height > frames[0].width, "upright portrait: \(frames[0].width)x\(frames[0].height)")
        for index in [0, 7, 14] {
            let theirs = try await Self.ffmpegFrame(source, at: 0.2 + Double(index) / 10, width: 240)
            #expect(theirs.width == frames[index].width && abs(theirs.height - frames[index].height) <= 1)
            let ours = try frames[index].cropped(x: 0, y: 0, width: theirs.width, height: min(theirs.height, frames[index].height))
            let difference = try Self.meanDifference(ours, theirs.cropped(x: 0, y: 0, width: ours.width, height: ours.height))
            #expect(difference < 3, "frame \(index): \(difference) from ffmpeg's frame at \(0.2 + Double(index) / 10) s")
        }
    }

    /// The GIF-like preview feeds show: a clip (the whole 2 s video), thumbnailed, as a silent MP4 loop.
    @Test func aPreviewLoopIsASilentVideo() async throws {
        let path = try await runOperations(Self.video, [["op": "clip", "duration": 2, "fps": 10], ["op": "thumbnail", "width": 160],
                                                        ["op": "encode", "format": "mp4"]])
        let probe = try JSONSerialization.jsonObject(with: try await runToolOffPool("ffprobe", [
            "-v", "error", "-count_frames", "-show_streams", "-of", "json", path])) as? [String: Any] ?? [:]
        let streams = probe["streams"] as? [[String: Any]] ?? []
        #expect(streams.count == 1 && streams.first?["codec_name"] as? String == "h264", "silent H.264: \(streams.map { $0["codec_name"] ?? "" })")
        #expect(streams.first?["nb_read_frames"] as? String == "20" && streams.first?["width"] as? Int == 160)
        let error = await stageFailure(Self.video, [["op": "clip", "start": 600]])
        #expect(error?.code == "clip_outside_video", "\(String(describing: error))")
    }
    @Test func theVideoPreviewPipeline() async throws {
        let video = "corpus/portrait-1080x1920.mp4"
        let seconds = try #require(Double(String(decoding: try await runToolOffPool("ffprobe", [
            "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", Fixture.path(video)]), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        // Its first 3 seconds, or all of it when shorter, at 12 frames a second.
        let frames = Int((min(3, seconds) * 12).rounded(.up))
        let outputs = try await runLocally(video, ["pipeline": "video-preview"])
        let loop = try #require(outputs["loop"]?.files.first)
        #expect(loop.file.contentType == "video/mp4" && loop.file.width == 360, "\(loop.file)")
        #expect(abs((loop.file.duration ?? 0) - Double(frames) / 12) < 0.01, "\(loop.file)")
        let animated = try #require(outputs["animated"]?.files.first)
        let stacked = try VipsImage.openAllPages(path: animated.path, loader: "webpload")
        #expect(stacked.pageCount == frames && stacked.width == 360 && stacked.pageHeight == 640, "\(stacked.pageCount) frames of \(stacked.width)x\(stacked.pageHeight)")
        let poster = try VipsImage.open(path: try #require(outputs["poster"]?.files.first).path)
        #expect(poster.width == 360 && poster.height == 640)
    }
}
