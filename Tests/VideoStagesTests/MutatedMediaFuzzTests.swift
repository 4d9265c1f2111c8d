import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// Seeded byte mutations of real files, as a fuzzer makes them: every video and
/// audio step on every mutant ends with output or a failure with a code. A crash
/// in a codec would end this test process, so passing means none happened.
@Suite(.ownThreads) struct MutatedMediaFuzzTests {
    /// A small deterministic generator (SplitMix64), so a failing mutant can be made again from its seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// `source` with `count` bytes past its first 64 (the signature an upload is sniffed by) overwritten.
    static func mutant(of source: String, seed: UInt64, count: Int) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixture.path(source))))
        var random = SplitMix(state: seed)
        for _ in 0..<count {
            bytes[Int.random(in: 64..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
        }
        let path = NSTemporaryDirectory() + "kiln-mutant-\(seed)-\(UUID().uuidString)-" + source
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let steps: [JSONValue] = [
        [["op": "probe"]], [["op": "frame"]], [["op": "transcode", "preset": "ultrafast"]],
        [["op": "hls", "renditions": [["height": 120]], "segmentSeconds": 1, "preset": "ultrafast"]],
        [["op": "audio"]], [["op": "waveform"]],
    ]

    /// Codes a damaged file may end with; anything else (or "internal") is a finding.
    static let expectedCodes: Set<String> = ["invalid_input", "unsupported_format", "input_too_large", "silent_input"]

    @Test(arguments: ["clip.mp4", "tone.mp3"], 0..<24)
    func everyStepOnAMutantEndsWithOutputOrACode(_ source: String, _ seed: Int) async throws {
        let path = try Self.mutant(of: source, seed: UInt64(seed), count: 1 + seed * 3)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for operations in Self.steps {
            if source.hasSuffix(".mp3"), ["frame", "transcode", "hls"].contains(operations.arrayValue?.first?["op"]?.stringValue ?? "") { continue }
            if let failure = await stageFailure(path, operations) {
                #expect(Self.expectedCodes.contains(failure.code), "seed \(seed) of \(source), \(operations): \(failure.code): \(failure.message)")
            }
        }
    }
}
