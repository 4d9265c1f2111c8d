import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

@Suite struct WaveformTests {
    /// The samples the ffmpeg tool decodes, mixed to mono float: the oracle.
    func ffmpegSamples(_ input: String) throws -> [Float] {
        let data = try runTool("ffmpeg", ["-v", "error", "-i", input, "-map", "0:a:0", "-ac", "1", "-f", "f32le", "-"])
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test(arguments: ["tone.mp3", "clip.mp4"])
    func peaksMatchTheDecodedSamples(_ fixture: String) async throws {
        let outputs = try await runLocally(fixture, ["operations": [["op": "waveform", "points": 50]]])
        let waveform = try #require(outputs["default"]?.results["waveform"])
        #expect(waveform["version"] == 2 && waveform["channels"] == 1 && waveform["bits"] == 8 && waveform["length"] == 50)
        let values = try #require(waveform["data"]?.arrayValue)
        let data = values.compactMap { $0.intValue }
        #expect(data.count == 100)
        let perPoint = try #require(waveform["samples_per_pixel"]?.intValue)
        let samples = try ffmpegSamples(Fixture.path(fixture))
        for point in 0..<50 {
            let span = samples[min(samples.count, point * perPoint)..<min(samples.count, (point + 1) * perPoint)]
            guard let low = span.min(), let high = span.max() else { continue }
            let expectedLow = Int((min(low, 0) * 127).rounded()), expectedHigh = Int((max(high, 0) * 127).rounded())
            #expect(abs(data[2 * point] - expectedLow) <= 2 && abs(data[2 * point + 1] - expectedHigh) <= 2,
                    "point \(point): Kiln \(data[2 * point])...\(data[2 * point + 1]), ffmpeg \(expectedLow)...\(expectedHigh)")
        }
        // Not silence: a steady sine in the middle of the file.
        #expect(data[50] < -10 && data[51] > 10, "the fixtures are ffmpeg sines at 1/8 of full scale: about ±16")
    }

    @Test func imagesHaveNoWaveform() async {
        let failure = await stageFailure("gradient.webp", [["op": "waveform"]])
        #expect(failure?.code == "unexpected")
    }
}
