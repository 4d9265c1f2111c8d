import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

/// Damaged media fails each video and audio step with an error code; nothing crashes.
@Suite struct HostileMediaTests {
    @Test(arguments: [
        [["op": "transcode"]], [["op": "frame"]], [["op": "storyboard"]], [["op": "audio"]],
        [["op": "waveform"]], [["op": "loudnorm"]], [["op": "probe"]],
    ] as [JSONValue])
    func aTruncatedVideoFailsEveryStep(_ operations: JSONValue) async {
        let failure = await stageFailure("truncated.mp4", operations)
        #expect(failure?.code == "invalid_input", "\(operations): \(String(describing: failure))")
    }

    @Test func aVideoHeaderAboveThePixelLimitIsRefusedBeforeDecoding() async {
        let limits = ProcessingLimits(maxImagePixels: 50_000)
        for operations: JSONValue in [[["op": "transcode"]], [["op": "frame"]], [["op": "storyboard"]]] {
            let failure = await stageFailure("clip.mp4", operations, limits: limits)
            #expect(failure?.code == "input_too_large", "\(operations): \(String(describing: failure))")
        }
    }
}
