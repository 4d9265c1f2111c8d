import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Animated PNGs, which libvips 8.14 reads only the first frame of: Kiln reads
/// every frame through FFmpeg's apng decoder, and what comes out is checked
/// frame by frame against the ffmpeg tool's own decode, with the delays
/// ffprobe reads from the file.
@Suite(.ownThreads) struct APNGTests {
    static let apng = "corpus/animated.png"

    /// Every frame as the ffmpeg tool decodes it (RGBA), and each frame's delay in milliseconds.
    static func ffmpegFrames(_ path: String) async throws -> (frames: [VipsImage], delays: [Int]) {
        let directory = NSTemporaryDirectory() + "kiln-apng-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try await runToolOffPool("ffmpeg", ["-v", "error", "-i", path, "-fps_mode", "passthrough", "-pix_fmt", "rgba", directory + "/%03d.png"])
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        let frames = try names.map { try VipsImage.open(path: directory + "/" + $0).materialized() }
        let durations = String(decoding: try await runToolOffPool("ffprobe", ["-v", "error", "-show_entries", "packet=duration_time", "-of", "csv=p=0", path]),
                               as: UTF8.self).split(separator: "\n").compactMap { Double($0) }
        return (frames, durations.map { Int(($0 * 1000).rounded()) })
    }

    static func meanDifference(_ a: VipsImage, _ b: VipsImage, alpha: Bool = false) throws -> Double {
        let x = try alpha ? a.rgbaBytes() : a.rgbBytes(), y = try alpha ? b.rgbaBytes() : b.rgbBytes()
        precondition(x.count == y.count, "sizes differ")
        return zip(x, y).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(x.count)
    }

    @Test func everyFrameOfAnAPNGIsResized() async throws {
        let source = try await Self.ffmpegFrames(Fixture.path(Self.apng))
        #expect(source.frames.count == 32 && Set(source.delays).count > 1, "\(source.frames.count) frames, delays \(source.delays)")
        let outputs = try await runLocally(Self.apng, ["operations": [["op": "resize", "width": 240], ["op": "encode", "format": "webp", "lossless": true]]])
        let output = try #require(outputs["default"]), file = try #require(output.files.first)
        #expect(file.file.width == 240 && file.file.height == 135, "\(file.file)")
        let stacked = try VipsImage.openAllPages(path: file.path, loader: "webpload")
        #expect(stacked.frameDelays == source.delays, "delays \(stacked.frameDelays), the file's \(source.delays)")
        #expect(stacked.loopCount == 0 && output.results["frames"] == 32)
        let frames = try stacked.pages().map { try $0.materialized() }
        #expect(frames.count == 32 && frames.allSatisfy(\.hasAlpha))
        for (index, frame) in frames.enumerated() {
            let reference = try source.frames[index].resized(xScale: 0.5, yScale: 0.5)
            let difference = try Self.meanDifference(frame, reference, alpha: true)
            #expect(difference < 1, "frame \(index): \(difference) from libvips' resize of ffmpeg's frame")
        }
        // The see-through corner stays half transparent.
        let corner = try frames[0].cropped(x: 4, y: 4, width: 8, height: 8).rgbaBytes()
        #expect(stride(from: 3, to: corner.count, by: 4).allSatisfy { abs(Int(corner[$0]) - 128) <= 2 }, "alpha \(corner[3])")
        #expect(try Self.meanDifference(frames[0], frames[20]) > 5, "the frames are not all the first one")
    }

    @Test func metadataAndAChosenFrame() async throws {
        let source = try await Self.ffmpegFrames(Fixture.path(Self.apng))
        let outputs = try await runLocally(Self.apng, ["outputs": [
            "meta": [["op": "metadata"]],
            "frame": [["op": "thumbnail", "width": 240, "frame": 25], ["op": "encode", "format": "png"]],
            "gif": [["op": "thumbnail", "width": 120], ["op": "encode", "format": "gif"]],
            "unnamed": [["op": "thumbnail", "width": 120]],
        ]])
        // No APNG writer: with no format named, an animated PNG goes on as an animated WebP.
        let unnamed = try #require(outputs["unnamed"]?.files.first)
        let unnamedFrames = try VipsImage.openAllPages(path: unnamed.path, loader: "webpload").pageCount
        #expect(unnamed.file.contentType == "image/webp" && unnamedFrames == 32, "\(unnamed.file), \(unnamedFrames) frames")
        let metadata = try #require(outputs["meta"]?.results["metadata"]?.objectValue)
        #expect(metadata["frames"] == 32 && metadata["loop"] == 0 && metadata["format"] == "png", "\(metadata)")
        #expect(metadata["duration"] == .number(Double(source.delays.reduce(0, +)) / 1000), "\(String(describing: metadata["duration"]))")
        let chosen = try VipsImage.open(path: try #require(outputs["frame"]?.files.first).path).materialized()
        let near = try Self.meanDifference(chosen, source.frames[25].resized(xScale: 0.5, yScale: 0.5))
        let far = try Self.meanDifference(chosen, source.frames[0].resized(xScale: 0.5, yScale: 0.5))
        #expect(near < 1.5 && far > near + 2, "frame 25: \(near), frame 0: \(far)")
        let gif = try VipsImage.openAllPages(path: try #require(outputs["gif"]?.files.first).path, loader: "gifload")
        #expect(gif.pageCount == 32 && gif.width == 120, "\(gif.pageCount) frames of \(gif.width)")
        let error = await stageFailure(Self.apng, [["op": "thumbnail", "width": 64, "frame": 32]])
        #expect(error?.code == "frame_out_of_range", "\(String(describing: error))")
    }

    /// An APNG of 2,000 frames is refused from its chunks, before a frame is decoded.
    @Test func apngLimitsAreReadFromTheChunks() async throws {
        let path = NSTemporaryDirectory() + "kiln-2k-frames-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try await runToolOffPool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=16x16:rate=100:duration=20", "-f", "apng", path])
        let error = await stageFailure(path, [["op": "thumbnail", "width": 8]])
        #expect(error?.code == "input_too_large" && error?.message.contains("2000 frames") == true, "\(String(describing: error))")
        // A still PNG is still a still.
        let still = try await runOperations("corpus/png-interlaced.png", [["op": "thumbnail", "width": 64], ["op": "encode", "format": "png"]])
        #expect(try VipsImage.open(path: still).pageCount == 1)
    }

    /// Seeded byte mutations of the corpus APNG (its chunk headers and frame
    /// controls among them): every one ends with output or a failure with a code.
    @Test(arguments: 0..<16)
    func aDamagedAPNGEndsWithOutputOrACode(_ seed: Int) async throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixture.path(Self.apng))))
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 &+ 1
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        // Past the signature and IHDR; the first kilobyte (acTL, the first fcTL) takes half the hits.
        for hit in 0..<(1 + seed * 4) {
            let range = hit % 2 == 0 ? 41..<1024 : 41..<bytes.count
            bytes[range.lowerBound + next() % range.count] = UInt8(next() & 0xFF)
        }
        let path = NSTemporaryDirectory() + "kiln-apng-mutant-\(seed)-\(UUID().uuidString).png"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for operations: JSONValue in [[["op": "resize", "width": 120], ["op": "encode", "format": "webp"]], [["op": "metadata"]],
                                      [["op": "thumbnail", "width": 64, "frame": 3]]] {
            if let failure = await stageFailure(path, operations) {
                #expect(["invalid_input", "unsupported_format", "input_too_large", "frame_out_of_range"].contains(failure.code),
                        "seed \(seed), \(operations): \(failure.code): \(failure.message)")
            }
        }
    }
}
