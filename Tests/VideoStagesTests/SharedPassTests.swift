import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// The video-feed pipeline on a 720p phone clip: one decode feeds the ladder,
/// the fallback, the poster, the placeholder and the storyboard.
@Suite(.ownThreads) struct SharedPassTests {
    func pictures(_ path: String) throws -> [String] {
        let text = String(decoding: try runTool("ffmpeg", ["-v", "error", "-i", path, "-map", "0:v", "-f", "framemd5", "-"]), as: UTF8.self)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last ?? "") }
    }

    @Test func theVideoFeedsFallbackIsIts480pRungAndEveryOutputComesFromOnePass() async throws {
        let input = try Fixture.corpus("two-audio.mp4")
        let outputs = try await runLocally(input, ["pipeline": "video-feed"])
        #expect(Set(outputs.keys) == ["stream", "poster", "placeholder", "storyboard", "fallback"])
        let stream = try #require(outputs["stream"])
        let rung = try #require(stream.files.first { $0.file.name == "480p/index.m3u8" })
        #expect(rung.file.width == 854 && rung.file.height == 480)
        let fallback = try #require(outputs["fallback"]?.files.first)
        #expect(fallback.file.width == 854 && fallback.file.height == 480)
        // The fallback's pictures are the rung's, frame for frame: its packets, not a second encode.
        let rungPictures = try pictures(rung.path), fallbackPictures = try pictures(fallback.path)
        #expect(!rungPictures.isEmpty && fallbackPictures == rungPictures)
        // The poster is the frame at 10 %, as a seeking grab finds it.
        let poster = try #require(outputs["poster"]?.files.first)
        let grabbed = try await runOperations(input, [["op": "frame", "percent": 10], ["op": "thumbnail", "width": 720, "height": 720, "fit": "inside"],
                                                      ["op": "encode", "format": "png"]])
        let shared = try runTool("vips", ["avg", poster.path]), alone = try runTool("vips", ["avg", grabbed])
        let difference = abs((Double(String(decoding: shared, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
            - (Double(String(decoding: alone, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1000))
        #expect(difference < 1.5, "the shared poster's mean differs by \(difference)")
        let sprite = try #require(outputs["storyboard"]?.files.first { $0.file.contentType == "image/jpeg" })
        #expect(sprite.file.width == 800)
        #expect(outputs["placeholder"]?.results["blurhash"]?.stringValue?.count ?? 0 >= 6)
        // Nothing of the pass is left in the ladder's directory.
        #expect(!FileManager.default.fileExists(atPath: (rung.path as NSString).deletingLastPathComponent + "/../.pass"))
    }

    /// Phone video at full size, upright and turned by its display matrix: every output of the
    /// shared pass shows the picture as the phone did (1080 wide, 1920 tall).
    @Test(arguments: ["portrait-1080x1920.mp4", "phone-hevc-rot90.mov"])
    func aPhoneVideosOutputsFromOnePassAreUpright(_ name: String) async throws {
        let outputs = try await runLocally(try Fixture.corpus(name), ["pipeline": "video-feed"])
        let rung = try #require(outputs["stream"]?.files.first { $0.file.name == "720p/index.m3u8" })
        #expect(rung.file.width == 406 && rung.file.height == 720, "\(rung.file)")
        let poster = try #require(outputs["poster"]?.files.first)
        #expect(poster.file.width == 405 && poster.file.height == 720, "\(poster.file)")
        let sprite = try #require(outputs["storyboard"]?.files.first { $0.file.contentType == "image/jpeg" })
        #expect(sprite.file.width == 800 && sprite.file.height == 4 * 284, "\(sprite.file)")
        // The fallback keeps the source's display matrix (players turn it): 480 wide as shown.
        let fallback = try #require(outputs["fallback"]?.files.first)
        let probe = try String(decoding: runTool("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                                                             "-of", "csv=p=0", fallback.path]), as: UTF8.self)
        let sides = probe.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").compactMap { Int($0) }
        #expect(Set(sides) == [270, 480], "\(probe)")
        #expect(outputs["placeholder"]?.results["blurhash"]?.stringValue?.count ?? 0 >= 6)
    }

    /// A waveform and a loudness normalisation beside a transcode read their samples from the
    /// transcode's pass (loudnorm then encodes in a second pass of the sound alone), and come
    /// out as they do on their own.
    @Test func theSoundsStepsTakeTheirSamplesFromTheVideosPass() async throws {
        let input = try Fixture.corpus("h264-vfr.mp4")
        let request: JSONValue = ["outputs": [
            "small": [["op": "transcode", "height": 240, "preset": "ultrafast"]],
            "wave": [["op": "waveform", "points": 100]],
            "loud": [["op": "loudnorm", "target": -20]],
        ]]
        let library = try PipelineLibrary(directory: Fixture.repositoryRoot + "/Pipelines")
        var body = request.objectValue ?? [:]
        body["input"] = "med_x"
        let plan = try JobPlan(outputs: try JobRequest.parse(.object(body), pipelines: library).outputs, input: .video, registry: Stages.registry)
        let source = SourceFile(path: Fixture.path(input), kind: .video, contentType: "video/mp4")
        let shared = try #require(try Stages.registry.sharedDecoder?.decode(source, for: plan.outputs, limits: .init()))
        #expect(shared.outputs == ["small", "wave", "loud"])

        let outputs = try await runLocally(input, request)
        let wave = try #require(outputs["wave"]?.results["waveform"])
        let aloneWave = try await runLocally(input, ["operations": [["op": "waveform", "points": 100]]])["default"]?.results["waveform"]
        #expect(wave == aloneWave)
        #expect(wave["data"]?.arrayValue?.count == 200 && wave["data"]?.arrayValue?.contains { ($0.doubleValue ?? 0) > 10 } == true)

        let loud = try #require(outputs["loud"])
        let alone = try #require(try await runLocally(input, ["operations": [["op": "loudnorm", "target": -20]]])["default"])
        let measured = try #require(loud.results["loudness"]?["input"]?.doubleValue)
        #expect(measured == alone.results["loudness"]?["input"]?.doubleValue)
        #expect(loud.results["loudness"]?["gain"] == alone.results["loudness"]?["gain"])
        // The normalised file is the whole sound, and as loud as asked (ffmpeg's ebur128 measures it).
        let file = try #require(loud.files.first)
        #expect(abs((file.file.duration ?? 0) - 3.0) < 0.1, "\(file.file)")
        let report = String(decoding: try runTool("ffmpeg", ["-nostats", "-i", file.path, "-af", "ebur128", "-f", "null", "-"], errorOutput: true), as: UTF8.self)
        let summary = report.components(separatedBy: "I:").last ?? ""
        let integrated: Double = Double(summary.split(separator: " ", omittingEmptySubsequences: true).first ?? "") ?? 0
        #expect(abs(integrated + 20) < 1.0, "integrated loudness \(integrated) LUFS")
    }

    /// Without sound, the sound's steps fail with their own error; the video's outputs are made.
    @Test func aSilentVideosWaveformFailsAloneInTheSharedPass() async throws {
        let input = try Fixture.corpus("no-audio.mp4")
        do {
            _ = try await runLocally(input, ["outputs": [
                "small": [["op": "transcode", "height": 240, "preset": "ultrafast"]],
                "wave": [["op": "waveform", "points": 100]],
            ]])
            Issue.record("a waveform of no sound succeeded")
        } catch LocalRun.Failure.failed(let output, let error) {
            #expect(output == "wave" && error.code == "invalid_input", "\(output): \(error)")
        }
    }
}
