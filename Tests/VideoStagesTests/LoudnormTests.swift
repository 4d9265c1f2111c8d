import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

/// Loudness checked with ffmpeg's own EBU R128 meter (the ebur128 filter).
@Suite(.ownThreads) struct LoudnormTests {
    func ffmpegLoudness(_ path: String) throws -> Double {
        let text = String(decoding: try runTool("ffmpeg", ["-nostats", "-i", path, "-af", "ebur128", "-f", "null", "-"], errorOutput: true),
                          as: UTF8.self)
        // The summary's "I:  -23.0 LUFS" line (the last one; every 100 ms block logs one too).
        let line = try #require(text.split(separator: "\n").last { $0.contains("I:") && $0.contains("LUFS") })
        return try #require(Double(line.split(separator: " ").dropFirst().first { Double($0) != nil } ?? ""))
    }

    /// A 4 s stereo sine at `amplitude` of full scale, written by ffmpeg.
    func sine(amplitude: Double) throws -> String {
        let path = NSTemporaryDirectory() + "sine-\(UUID().uuidString).wav"
        try runTool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "aevalsrc=\(amplitude)*sin(2*PI*997*t)|\(amplitude)*sin(2*PI*997*t):s=48000:d=4", path])
        return path
    }

    @Test(arguments: [(0.05, -16.0), (0.7, -16.0), (0.3, -23.0)])
    func reachesTheTargetAsFFmpegMeasuresIt(_ amplitude: Double, _ target: Double) async throws {
        let input = try sine(amplitude: amplitude)
        let outputs = try await runLocally(input, ["operations": [["op": "loudnorm", "target": .number(target), "format": "aac"]]])
        let output = try #require(outputs["default"])
        let measured = try #require(output.results["loudness"]?["input"]?.doubleValue)
        #expect(abs(measured - (try ffmpegLoudness(input))) < 0.5, "Kiln's meter agrees with ffmpeg's on the input")
        let file = try #require(output.files.first)
        let reached = try ffmpegLoudness(file.path)
        #expect(abs(reached - target) < 1, "output at \(reached) LUFS for a target of \(target)")
    }

    @Test func thePeakLimitWinsOverTheTarget() async throws {
        // A sine peaking at -6 dBFS (-6 LUFS) asked for -5 LUFS with peaks kept under -9 dBFS:
        // the gain stops at the peak limit, 3 dB down, not 1 dB up.
        let input = try sine(amplitude: 0.5)
        let outputs = try await runLocally(input, ["operations": [["op": "loudnorm", "target": -5, "truePeak": -9, "format": "aac"]]])
        let gain = try #require(outputs["default"]?.results["loudness"]?["gain"]?.doubleValue)
        #expect(abs(gain - (-9 - 20 * log10(0.5))) < 0.1, "gain \(gain) dB")
    }

    @Test func realFixturesNormalise() async throws {
        let outputs = try await runLocally("clip.mp4", ["operations": [["op": "loudnorm", "format": "mp3"]]])
        let file = try #require(outputs["default"]?.files.first)
        #expect(abs(try ffmpegLoudness(file.path) - (-16)) < 1)
    }
}
