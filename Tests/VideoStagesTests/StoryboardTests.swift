import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

@Suite(.ownThreads) struct StoryboardTests {
    struct Cue { var start: Double, end: Double, file: String, x: Int, y: Int, width: Int, height: Int }

    /// Parses the WebVTT Kiln writes: a header, then cues of a time line and a `file#xywh=` line.
    func cues(_ text: String) throws -> [Cue] {
        #expect(text.hasPrefix("WEBVTT\n"))
        func seconds(_ stamp: Substring) -> Double {
            let parts = stamp.split(separator: ":").map { Double($0) ?? 0 }
            return parts[0] * 3600 + parts[1] * 60 + parts[2]
        }
        return try text.components(separatedBy: "\n\n").dropFirst().map { block in
            let lines = block.split(separator: "\n")
            let times = lines[0].components(separatedBy: " --> ")
            let (file, fragment) = try #require(lines[1].split(separator: "#").map(String.init).splitPair)
            let numbers = fragment.dropFirst("xywh=".count).split(separator: ",").compactMap { Int($0) }
            return Cue(start: seconds(Substring(times[0])), end: seconds(Substring(times[1])), file: file,
                       x: numbers[0], y: numbers[1], width: numbers[2], height: numbers[3])
        }
    }

    @Test func spriteAndCuesCoverTheVideo() async throws {
        let outputs = try await runLocally("clip.mp4", ["outputs": ["scrub": [["op": "storyboard", "count": 6, "columns": 4, "width": 80]]]])
        let files = try #require(outputs["scrub"]?.files)
        let sprite = try #require(files.first { $0.file.contentType == "image/jpeg" })
        let vtt = try #require(files.first { $0.file.contentType == "text/vtt" })
        let image = try VipsImage.open(path: sprite.path).materialized()
        // 6 tiles of 80x60, 4 to a row: 320x120.
        #expect(image.width == 320 && image.height == 120)
        let list = try cues(try String(contentsOfFile: vtt.path, encoding: .utf8))
        #expect(list.count == 6)
        #expect(list.first?.start == 0 && abs((list.last?.end ?? 0) - 3.0) < 0.05)
        for (index, cue) in list.enumerated() {
            #expect(cue.file == "scrub.jpg")
            #expect(cue.width == 80 && cue.height == 60 && cue.x + cue.width <= image.width && cue.y + cue.height <= image.height)
            if index > 0 { #expect(abs(cue.start - list[index - 1].end) < 0.001, "cues are contiguous") }
        }
        // Tiles are different frames of the clip, not copies of one.
        let first = try image.cropped(x: list[0].x, y: list[0].y, width: 80, height: 60).rgbBytes()
        let last = try image.cropped(x: list[5].x, y: list[5].y, width: 80, height: 60).rgbBytes()
        #expect(first != last)
    }

    @Test func storyboardsAreForVideoOnly() async {
        let failure = await stageFailure("tone.mp3", [["op": "storyboard"]])
        #expect(failure?.code == "unexpected")
    }
}

extension Array {
    var splitPair: (Element, Element)? { count == 2 ? (self[0], self[1]) : nil }
}
