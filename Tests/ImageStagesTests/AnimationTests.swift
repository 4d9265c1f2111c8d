import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Animated GIF and WebP through the image operations: every frame is
/// processed, the frame delays and loop survive, and what comes out is checked
/// frame by frame against libvips run on the source's own frames.
@Suite(.ownThreads) struct AnimationTests {
    static let gif = "corpus/animated.gif"
    static let webp = "corpus/animated.webp"

    struct Decoded {
        var frames: [VipsImage]
        var delays: [Int]
        var loop: Int
        var loader: String
    }

    /// Every frame of a GIF or WebP, each rendered.
    static func decode(_ path: String) throws -> Decoded {
        let header = try VipsImage.open(path: path)
        let loader = try #require(header.loader)
        let stacked = try VipsImage.openAllPages(path: path, loader: loader)
        return Decoded(frames: try stacked.pages().map { try $0.materialized() }, delays: stacked.frameDelays,
                       loop: stacked.loopCount, loader: loader)
    }

    static func meanDifference(_ a: VipsImage, _ b: VipsImage) throws -> Double {
        let x = try a.rgbBytes(), y = try b.rgbBytes()
        precondition(x.count == y.count, "sizes differ")
        return zip(x, y).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(x.count)
    }

    static func run(_ input: String, _ operations: JSONValue) async throws -> (path: String, results: [String: JSONValue], file: ProducedFile) {
        let outputs = try await runLocally(input, ["operations": operations])
        let output = try #require(outputs["default"])
        let file = try #require(output.files.first)
        return (file.path, output.results, file.1)
    }

    /// Each output frame is the source's frame resized by libvips itself, in order, with its delay.
    @Test(arguments: [gif, webp])
    func everyFrameIsResized(_ input: String) async throws {
        let source = try Self.decode(Fixture.path(input))
        #expect(source.frames.count >= 30, "the corpus animation has \(source.frames.count) frames")
        #expect(Set(source.delays).count > 1, "the corpus animation's frames show for different times: \(source.delays)")
        let (path, results, file) = try await Self.run(input, [["op": "resize", "width": 240], ["op": "encode", "format": "webp", "lossless": true]])
        let out = try Self.decode(path)
        #expect(out.loader == "webpload")
        #expect(out.frames.count == source.frames.count)
        #expect(out.delays == source.delays)
        #expect(out.loop == source.loop)
        #expect(file.width == 240 && file.height == 135)
        #expect(results["frames"] == .number(Double(source.frames.count)))
        let duration = Double(source.delays.reduce(0, +)) / 1000
        #expect(results["duration"] == .number(duration) && file.duration == duration)
        for (index, frame) in out.frames.enumerated() {
            #expect(frame.width == 240 && frame.height == 135)
            let reference = try source.frames[index].resized(xScale: 0.5, yScale: 0.5)
            let difference = try Self.meanDifference(frame, reference)
            #expect(difference < 1, "frame \(index): mean difference \(difference) from libvips' resize of the source's frame")
        }
        #expect(try Self.meanDifference(out.frames[0], out.frames[20]) > 5, "the frames are not all the first one")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var operations: JSONValue
        var width: Int
        var height: Int
        var testDescription: String { "\(operations)" }

        init(_ operations: JSONValue, _ width: Int, _ height: Int) {
            self.operations = operations
            self.width = width
            self.height = height
        }
    }

    static let cases: [Case] = [
        Case([["op": "thumbnail", "width": 160, "height": 160, "fit": "cover"]], 160, 160),
        Case([["op": "thumbnail", "width": 160, "height": 160, "fit": "attention"]], 160, 160),
        Case([["op": "crop", "width": 300, "height": 200, "gravity": "entropy"]], 300, 200),
        Case([["op": "crop", "x": 10, "y": 20, "width": 100, "height": 50]], 100, 50),
        Case([["op": "rotate", "angle": 90]], 270, 480),
        Case([["op": "rotate", "angle": 30]], 551, 474),
        Case([["op": "flip"]], 480, 270),
        Case([["op": "flop"]], 480, 270),
        Case([["op": "filter", "grayscale": true, "blur": 1]], 480, 270),
        Case([["op": "filter", "look": "clarendon"]], 480, 270),
        Case([["op": "watermark", "text": "Kiln"]], 480, 270),
        Case([["op": "watermark", "image": "assets/kiln-logo.png", "gravity": "southeast"]], 480, 270),
        Case([["op": "resize", "width": 300, "height": 300, "fit": "contain", "background": "transparent"]], 300, 300),
        Case([["op": "resize", "width": 200, "height": 200, "gravity": "attention"], ["op": "flip"]], 200, 200),
    ]

    /// Every frame-wise operation keeps the frames, their delays and one size for all of them.
    @Test(arguments: cases)
    func everyOperationKeepsTheAnimation(_ test: Case) async throws {
        let (operations, width, height) = (test.operations, test.width, test.height)
        let source = try Self.decode(Fixture.path(Self.gif))
        let (path, _, _) = try await Self.run(Self.gif, operations)
        let out = try Self.decode(path)
        #expect(out.loader == "gifload", "an animated GIF stays a GIF when no format is named")
        #expect(out.frames.count == source.frames.count)
        #expect(out.delays == source.delays)
        // A free rotation's corners round either way: a pixel of slack there.
        #expect(abs(out.frames[0].width - width) <= 1 && abs(out.frames[0].height - height) <= 1, "\(out.frames[0].width)x\(out.frames[0].height)")
        #expect(out.frames.allSatisfy { $0.width == out.frames[0].width && $0.height == out.frames[0].height })
        #expect(try Self.meanDifference(out.frames[0], out.frames[20]) > 2, "the frames are not all the first one")
    }

    /// A crop placed by content is chosen on the first frame and cut at the same place from every other.
    @Test func aSmartCropDoesNotJumpBetweenFrames() async throws {
        let source = try Self.decode(Fixture.path(Self.webp))
        let (path, _, _) = try await Self.run(Self.webp, [["op": "crop", "width": 200, "height": 200, "gravity": "attention"],
                                                         ["op": "encode", "format": "webp", "lossless": true]])
        let out = try Self.decode(path)
        let origin = try source.frames[0].smartCropped(width: 200, height: 200, interesting: .attention).cropOrigin
        for (index, frame) in out.frames.enumerated() {
            let expected = try source.frames[index].cropped(x: origin.x, y: origin.y, width: 200, height: 200)
            let difference = try Self.meanDifference(frame, expected)
            #expect(difference < 0.5, "frame \(index) differs by \(difference) from the first frame's crop place")
        }
    }

    /// WebP in, GIF out: still every frame, each shown as long.
    @Test func anAnimatedWebPBecomesAnAnimatedGIF() async throws {
        let source = try Self.decode(Fixture.path(Self.webp))
        let (path, _, file) = try await Self.run(Self.webp, [["op": "encode", "format": "gif"]])
        let out = try Self.decode(path)
        #expect(out.loader == "gifload" && file.contentType == "image/gif")
        #expect(out.frames.count == source.frames.count && out.delays == source.delays)
        for index in [0, 16, source.frames.count - 1] {
            let difference = try Self.meanDifference(out.frames[index], source.frames[index])
            #expect(difference < 6, "frame \(index): \(difference) after quantising to a palette")
        }
    }

    /// A format with one picture gets the first frame.
    @Test func aStillFormatTakesTheFirstFrame() async throws {
        let source = try Self.decode(Fixture.path(Self.gif))
        let (path, results, _) = try await Self.run(Self.gif, [["op": "encode", "format": "png"]])
        let image = try VipsImage.open(path: path).materialized()
        #expect(image.pageCount == 1 && image.width == 480 && image.height == 270)
        #expect(try Self.meanDifference(image, source.frames[0]) < 0.5)
        #expect(results["frames"] == nil)
    }

    @Test(arguments: [gif, webp])
    func metadataReportsFramesAndDuration(_ input: String) async throws {
        let source = try Self.decode(Fixture.path(input))
        let outputs = try await runLocally(input, ["operations": [["op": "metadata"]]])
        let metadata = try #require(outputs["default"]?.results["metadata"]?.objectValue)
        #expect(metadata["frames"] == .number(Double(source.frames.count)))
        #expect(metadata["duration"] == .number(Double(source.delays.reduce(0, +)) / 1000))
        #expect(metadata["loop"] == .number(Double(source.loop)))
        #expect(metadata["width"] == 480 && metadata["height"] == 270)
    }

    /// `thumbnail` with `frame` takes that frame alone; one past the last fails with a code.
    @Test func aThumbnailOfAChosenFrame() async throws {
        let source = try Self.decode(Fixture.path(Self.gif))
        let (path, _, _) = try await Self.run(Self.gif, [["op": "thumbnail", "width": 240, "frame": 25], ["op": "encode", "format": "png"]])
        let image = try VipsImage.open(path: path).materialized()
        #expect(image.pageCount == 1 && image.width == 240 && image.height == 135)
        let chosen = try Self.meanDifference(image, source.frames[25].resized(xScale: 0.5, yScale: 0.5))
        let first = try Self.meanDifference(image, source.frames[0].resized(xScale: 0.5, yScale: 0.5))
        #expect(chosen < 1.5 && first > chosen + 2, "frame 25: \(chosen), frame 0: \(first)")
        let error = await stageFailure(Self.gif, [["op": "thumbnail", "width": 240, "frame": .number(Double(source.frames.count))]])
        #expect(error?.code == "frame_out_of_range", "\(String(describing: error))")
    }

    /// A 10,000-frame GIF is refused from its header with a code; so is one over the pixel budget.
    @Test func animationLimitsAreReadFromTheHeader() async throws {
        let path = NSTemporaryDirectory() + "kiln-10k-frames-\(UUID().uuidString).gif"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try await runToolOffPool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=16x16:rate=100:duration=100", path])
        let packets = try await runToolOffPool("ffprobe", ["-v", "error", "-count_packets", "-select_streams", "v:0",
                                                           "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path])
        #expect(String(decoding: packets, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "10000")
        // libvips' GIF reader stops counting past 4,096 frames: either way far over the limit.
        let error = await stageFailure(path, [["op": "thumbnail", "width": 8]])
        #expect(error?.code == "input_too_large" && error?.message.contains("frames; the limit is 1000") == true, "\(String(describing: error))")

        var limits = ProcessingLimits()
        limits.maxAnimationPixels = 480 * 270 * 20
        let tooLarge = await stageFailure(Self.gif, [["op": "resize", "width": 100]], limits: limits)
        #expect(tooLarge?.code == "input_too_large", "\(String(describing: tooLarge))")
    }

    /// An animated sticker: 512×512 WebP, every frame, within the byte budget.
    @Test func anAnimatedStickerFitsItsBudget() async throws {
        let source = try Self.decode(Fixture.path(Self.gif))
        let (path, results, file) = try await Self.run(Self.gif, [
            ["op": "resize", "width": 512, "height": 512, "fit": "contain", "enlarge": true, "background": "transparent"],
            ["op": "encode", "format": "webp", "quality": 90, "maxBytes": 500_000],
        ])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path)).count
        #expect(bytes <= 500_000 && bytes == file.size)
        let out = try Self.decode(path)
        #expect(out.frames.count == source.frames.count && out.delays == source.delays)
        #expect(file.width == 512 && file.height == 512 && results["scale"] == 1, "the budget is met by quality: \(results)")
        #expect(out.frames.allSatisfy { $0.width == 512 && $0.height == 512 && $0.hasAlpha })
        #expect(results["frames"] == .number(Double(source.frames.count)) && results["quality"] != nil)
        #expect(try out.frames[0].pixel(x: 2, y: 2).last == 0, "the padding above the 16:9 picture is clear")
    }
    /// GIF in, silent video out: every frame at its own time, the pictures the GIF shows, and a far smaller file.
    @Test(arguments: ["mp4", "webm"])
    func anAnimationBecomesASilentVideo(_ format: String) async throws {
        let source = try Self.decode(Fixture.path(Self.gif))
        let (path, results, file) = try await Self.run(Self.gif, [["op": "encode", "format": .string(format)]])
        #expect(file.contentType == "video/\(format)" && file.width == 480 && file.height == 270)
        let probe = try JSONSerialization.jsonObject(with: try await runToolOffPool("ffprobe", [
            "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", path])) as? [String: Any] ?? [:]
        let streams = probe["streams"] as? [[String: Any]] ?? []
        #expect(streams.count == 1, "one stream, no sound: \(streams.map { $0["codec_type"] ?? "" })")
        let stream = try #require(streams.first)
        #expect(stream["codec_name"] as? String == (format == "mp4" ? "h264" : "vp9"))
        #expect(stream["width"] as? Int == 480 && stream["height"] as? Int == 270)
        #expect(stream["nb_read_frames"] as? String == String(source.frames.count))
        // Each frame starts where the GIF's did: the gaps between them are the GIF's delays.
        let times = String(decoding: try await runToolOffPool("ffprobe", [
            "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp_time", "-of", "csv=p=0", path]), as: UTF8.self)
            .split(whereSeparator: \.isNewline).compactMap { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: ", "))) }
        let gaps = zip(times.dropFirst(), times).map { Int((($0 - $1) * 1000).rounded()) }
        #expect(gaps == Array(source.delays.dropLast()), "gaps \(gaps)")
        let duration = Double((probe["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
        let expected = Double(source.delays.reduce(0, +)) / 1000
        #expect(abs(duration - expected) <= 0.05, "\(duration) s, the GIF plays \(expected) s")
        #expect(results["codec"] == .string(format == "mp4" ? "h264" : "vp9") && results["frames"] == .number(Double(source.frames.count)))
        for index in [0, 16, source.frames.count - 1] {
            let still = NSTemporaryDirectory() + "kiln-video-frame-\(UUID().uuidString).png"
            defer { try? FileManager.default.removeItem(atPath: still) }
            _ = try await runToolOffPool("ffmpeg", ["-v", "error", "-i", path, "-vf", "select=eq(n\\,\(index))", "-frames:v", "1", still])
            let difference = try Self.meanDifference(try VipsImage.open(path: still).materialized(), source.frames[index].flattened(on: [255, 255, 255]))
            #expect(difference < 6, "frame \(index): mean difference \(difference) from the GIF's")
        }
        let gifBytes = try Data(contentsOf: URL(fileURLWithPath: Fixture.path(Self.gif))).count
        print("GIF → \(format): \(gifBytes) → \(file.size) bytes, \(String(format: "%.1f", Double(gifBytes) / Double(file.size)))× smaller")
        // The corpus GIF is a synthetic test pattern with large flat areas, which GIF's LZW
        // codes well: 2-2.5x here; a GIF cut from camera footage gives the 5-20x feeds see.
        #expect(file.size * 3 < gifBytes * 2, "\(file.size) bytes against the GIF's \(gifBytes): not 1.5x smaller")
    }

    @Test func aStillIsNotAVideo() async throws {
        let error = await stageFailure("corpus/jpeg-1080-o6.jpg", [["op": "encode", "format": "mp4"]])
        #expect(error?.code == "not_animated", "\(String(describing: error))")
    }
}
