import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// Streams that do not keep the promises their headers make: every video and
/// audio step ends with correct output or a failure with a code, never a crash,
/// and never decodes past the duration limit.
@Suite(.ownThreads) struct HostileStreamTests {
    static let videoSteps: [String] = ["probe", "transcode", "frame", "thumbnail", "storyboard", "hls", "audio", "waveform", "loudnorm"]

    static func operations(_ op: String) -> JSONValue {
        switch op {
        case "thumbnail": [["op": "thumbnail", "width": 160]]
        case "hls": [["op": "hls", "renditions": [["height": 240]], "segmentSeconds": 2]]
        default: [["op": .string(op)]]
        }
    }

    /// A byte-mutated 12 s 720p clip whose video header the decoder cannot use (no
    /// pixel format): building a scaler from that header aborted the process in
    /// libswscale. Each step now either works (the sound is intact) or fails with a code.
    @Test(arguments: videoSteps)
    func theMutatedClipThatAbortedLibswscale(_ op: String) async {
        let failure = await stageFailure("hostile/hls-swscale-abort.mp4", Self.operations(op))
        switch op {
        case "probe", "audio":
            #expect(failure == nil, "\(op): \(String(describing: failure))")
        default:
            // No picture and a broken audio header for the sample decoders: nothing to make, said as such.
            #expect(failure?.code == "invalid_input", "\(op): \(String(describing: failure))")
        }
    }

    /// A 6 s Matroska file whose header says 1 s, and one whose header says nothing
    /// (written live): under a 3 s limit, each step that decodes the stream stops
    /// at the limit with input_too_large instead of trusting the header.
    @Test(arguments: ["short header", "no duration"])
    func decodingStopsAtTheDurationLimit(_ kind: String) async throws {
        let path = try Self.sixSeconds(headerSays: kind == "short header" ? 1 : nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let limits = ProcessingLimits(maxDurationSeconds: 3)
        for op in ["transcode", "hls", "audio", "waveform", "loudnorm"] {
            let failure = await stageFailure(path, Self.operations(op), limits: limits)
            #expect(failure?.code == "input_too_large", "\(kind), \(op): \(String(describing: failure))")
        }
        // Within the limits, the whole stream is there, whatever the header said.
        let output = try await runOperations(path, [["op": "transcode", "preset": "ultrafast"]])
        let seconds = Double(String(decoding: try runTool("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", output]),
                                    as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(abs(seconds - 6) < 0.1, "\(kind): the transcode lasts \(seconds) s")
    }

    /// 6 s of 320x240 video and sound in Matroska; its Segment Duration patched to
    /// `headerSays` seconds, or left out (live mode) when nil.
    static func sixSeconds(headerSays: Double?) throws -> String {
        let path = NSTemporaryDirectory() + "kiln-long-\(UUID().uuidString).mkv"
        try runTool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6", "-f", "lavfi", "-i", "sine=duration=6",
                               "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "libopus"] + (headerSays == nil ? ["-live", "1"] : []) + [path])
        guard let seconds = headerSays else { return path }
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        // EBML Duration (0x4489), 8-byte float, in the segment's milliseconds.
        guard let range = data.firstRange(of: Data([0x44, 0x89, 0x88])) else { throw TestFailure("no Duration element") }
        withUnsafeBytes(of: (seconds * 1000).bitPattern.bigEndian) { data.replaceSubrange(range.upperBound..<range.upperBound + 8, with: $0) }
        try data.write(to: URL(fileURLWithPath: path))
        let said = try runTool("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path])
        guard abs((Double(String(decoding: said, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) - seconds) < 0.01 else {
            throw TestFailure("the patched header says \(String(decoding: said, as: UTF8.self))")
        }
        return path
    }
}
