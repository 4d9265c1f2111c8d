import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// The video-feed pipeline on a 720p phone clip: one decode feeds the ladder,
/// the fallback, the poster, the placeholder and the storyboard.
@Suite struct SharedPassTests {
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
}
