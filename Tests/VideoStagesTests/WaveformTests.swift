import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

@Suite(.ownThreads) struct WaveformTests {
    /// The samples the ffmpeg tool decodes, mixed to mono float: the oracle.
    func ffmpegSamples(_ input: String) async throws -> [Float] {
        let data = try await runToolOffPool("ffmpeg", ["-v", "error", "-i", input, "-map", "0:a:0", "-ac", "1", "-f", "f32le", "-"])
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
        let samples = try await ffmpegSamples(Fixture.path(fixture))
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

    /// The 5-bit bars of a voice note, unpacked from their base64, against bars made from ffmpeg's own samples.
    @Test func compactBarsMatchTheDecodedSamples() async throws {
        let input = "corpus/voice-note.ogg"
        let outputs = try await runLocally(input, ["operations": [["op": "waveform", "points": 100, "buckets": 100]]])
        let results = try #require(outputs["default"]?.results)
        let packed = try #require(results["compactWaveform"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        #expect(packed.count == 63, "100 bars of 5 bits")
        let bars = (0..<100).map { index -> Int in
            let bit = index * 5
            let word = Int(packed[bit / 8]) | (bit / 8 + 1 < packed.count ? Int(packed[bit / 8 + 1]) << 8 : 0)
            return (word >> (bit % 8)) & 31
        }
        let samples = try await ffmpegSamples(Fixture.path(input))
        let spans = (0..<100).map { bucket -> Float in
            let range = (bucket * samples.count / 100)..<((bucket + 1) * samples.count / 100)
            return samples[range].map(abs).max() ?? 0
        }
        let loudest = try #require(spans.max())
        let expected = spans.map { Int(($0 / loudest * 31).rounded()) }
        #expect(bars.max() == 31)
        for (index, (bar, oracle)) in zip(bars, expected).enumerated() {
            #expect(abs(bar - oracle) <= 1, "bar \(index): Kiln \(bar), ffmpeg \(oracle)")
        }
        // The duration is the decoded samples' own.
        let duration = try #require(results["duration"]?.doubleValue)
        let rate = try #require(results["waveform"]?["sample_rate"]?.doubleValue)
        #expect(abs(duration * rate - Double(samples.count)) < 0.5, "\(duration) s at \(rate) Hz against \(samples.count) samples")
    }

    @Test func moreBarsThanPointsAreRefused() async {
        let failure = await stageFailure("tone.mp3", [["op": "waveform", "points": 50, "buckets": 64]])
        #expect(failure?.message.contains("/operations/0/buckets") == true, "\(String(describing: failure))")
    }

    /// The voice-note pipeline: mono Opus in Ogg at about 24 kbit/s, as long as the source, and its bars.
    @Test func aVoiceNoteIsOpusInOggWithItsBars() async throws {
        let input = "corpus/voice-note.ogg"
        let outputs = try await runLocally(input, ["pipeline": "voice-note"])
        let voice = try #require(outputs["voice"]?.files.first)
        #expect(voice.file.contentType == "audio/ogg", "\(voice.file.contentType)")
        let probe = try JSONValue.decode(try await runToolOffPool("ffprobe", ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", voice.path]))
        let stream = try #require(probe["streams"]?.arrayValue?.first)
        #expect(stream["codec_name"] == "opus" && stream["channels"] == 1, "\(stream)")
        #expect(probe["format"]?["format_name"] == "ogg")
        let seconds = try #require(probe["format"]?["duration"]?.stringValue.flatMap(Double.init))
        let source = try #require(outputs["waveform"]?.results["duration"]?.doubleValue)
        #expect(abs(seconds - source) <= 0.02, "Opus \(seconds) s, source \(source) s: within one 20 ms frame")
        let bitRate = Double(voice.file.size * 8) / seconds
        #expect(bitRate < 40_000, "\(bitRate) bit/s")
        #expect(outputs["waveform"]?.results["compactWaveformBuckets"] == 100)
    }

    @Test func imagesHaveNoWaveform() async {
        let failure = await stageFailure("gradient.webp", [["op": "waveform"]])
        #expect(failure?.code == "unexpected")
    }
}
