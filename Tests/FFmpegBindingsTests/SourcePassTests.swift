import FFmpegBindings
import Foundation
import KilnTestSupport
import Testing

/// One decode feeding a ladder, a fallback and frames.
@Suite(.ownThreads) struct SourcePassTests {
    func scratch() throws -> String {
        let directory = NSTemporaryDirectory() + "kiln-pass-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The decoded pictures' checksums, one line a frame, as ffmpeg sees them.
    func pictures(_ path: String) throws -> [String] {
        let text = String(decoding: try runTool("ffmpeg", ["-v", "error", "-i", path, "-map", "0:v", "-f", "framemd5", "-"]), as: UTF8.self)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { String($0.split(separator: ",").last ?? "") }
    }

    @Test func aFallbackWithARungsSettingsTakesThatRungsPacketsAndOnlyTheLadderEncodes() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = Fixture.path("clip.mp4")
        let pass = try SourcePass(path: source)
        let ladder = HLSSettings(directory: directory + "/hls", rungs: [
            .init(name: "240p", width: 320, height: 240, crf: 26, maxRate: 900_000, bufferSize: 1_800_000),
            .init(name: "120p", width: 160, height: 120, crf: 26),
        ], segmentSeconds: 1, preset: "ultrafast")
        var facts: HLSLadderFacts?
        try pass.addLadder(ladder, segmentsFinished: { _, _ in }, done: { facts = $0 })
        let fallback = directory + "/fallback.mp4"
        try pass.addTranscode(VideoSettings(container: .mp4, codec: .h264, width: 320, height: 240, crf: 26, maxRate: 900_000, bufferSize: 1_800_000,
                                            preset: "ultrafast"), output: fallback)
        // Another size is an encode of its own.
        let other = directory + "/other.mp4"
        try pass.addTranscode(VideoSettings(container: .mp4, codec: .h264, width: 240, height: 180, crf: 26, preset: "ultrafast", mute: true), output: other)
        var frames: [Int: Int] = [:]
        try pass.addFrames(at: [2.5, 0.2], maxPixels: 10_000_000) { index, frame in frames[index] = frame.width }
        try pass.run()

        #expect(pass.videoEncoders == 3, "two rungs and the other size; the fallback encodes nothing")
        #expect(facts?.videoCodecs.count == 2)
        #expect(frames == [0: 320, 1: 320])
        // The fallback is the 240p rung's bitstream: the same pictures, frame for frame.
        let lists = try #require(facts?.segmentLists)
        // The sound may end with a segment of one AAC frame: its encoder's priming starts it 23 ms early.
        let counts = lists.map(\.segments.count)
        #expect(counts.prefix(2) == [3, 3] && (3...4).contains(counts[2]), "1 s segments of the 3 s clip in every rendition: \(lists.map(\.segments))")
        let playlist = directory + "/hls/240p/index.m3u8"
        let entries = lists[0].segments.map { String(format: "#EXTINF:%.6f,\n%@", $0.duration, $0.uri) }
        try (["#EXTM3U", "#EXT-X-TARGETDURATION:1"] + entries + ["#EXT-X-ENDLIST"]).joined(separator: "\n")
            .write(toFile: playlist, atomically: true, encoding: .utf8)
        let rung = try pictures(playlist)
        let fallbackPictures = try pictures(fallback)
        #expect(rung.count == 75 && fallbackPictures == rung)
        let probe = try MediaProbe(path: fallback)
        #expect(probe.video?.width == 320 && probe.video?.height == 240 && probe.audio?.codec == "aac")
        #expect(abs((probe.duration ?? 0) - 3) < 0.15)
        // faststart: the index before the media data.
        let head = try FileHandle(forReadingFrom: URL(fileURLWithPath: fallback)).readData(ofLength: 64 * 1024)
        let moov = head.range(of: Data("moov".utf8)), mdat = head.range(of: Data("mdat".utf8))
        #expect(moov != nil && (mdat == nil || moov!.lowerBound < mdat!.lowerBound))
        let separate = try MediaProbe(path: other)
        #expect(separate.video?.width == 240 && separate.audio == nil)
    }
}
