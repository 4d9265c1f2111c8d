import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

/// Every transcode checked with ffprobe: codecs, size, duration, keyframes, rotation.
@Suite(.ownThreads) struct TranscodeTests {
    func ffprobe(_ arguments: [String]) throws -> String {
        String(decoding: try runTool("ffprobe", ["-v", "error"] + arguments), as: UTF8.self)
    }

    /// `codec,width,height` per stream and the container's duration.
    func streams(_ path: String) throws -> (video: [String], audio: [String], duration: Double) {
        let lines = try ffprobe(["-show_entries", "stream=codec_type,codec_name,width,height:format=duration", "-of", "csv=p=0", path])
            .split(separator: "\n").map(String.init)
        let video = lines.first { $0.contains(",video") }?.split(separator: ",").map(String.init) ?? []
        let audio = lines.first { $0.contains(",audio") }?.split(separator: ",").map(String.init) ?? []
        let duration = lines.compactMap { Double($0) }.first ?? 0
        return (video, audio, duration)
    }

    @Test(arguments: [
        ("mp4", "h264", "h264", "aac", 160, 120, 3.0),
        ("mp4", "hevc", "hevc", "aac", 160, 120, 3.0),
        ("webm", "vp9", "vp9", "opus", 160, 120, 3.0),
        ("mp4", "av1", "av1", "aac", 160, 120, 3.0),
    ])
    func formatsAndCodecs(_ format: String, _ codec: String, _ videoCodec: String, _ audioCodec: String, _ width: Int, _ height: Int,
                          _ seconds: Double) async throws {
        let path = try await runOperations("clip.mp4", [["op": "transcode", "format": .string(format), "codec": .string(codec), "width": 160]])
        let probed = try streams(path)
        #expect(probed.video.contains(videoCodec) && probed.video.contains("\(width)") && probed.video.contains("\(height)"), "\(probed)")
        #expect(probed.audio.contains(audioCodec), "\(probed)")
        #expect(abs(probed.duration - seconds) < 0.06, "\(probed.duration) s")
    }

    @Test func trimAndMute() async throws {
        let path = try await runOperations("clip.mp4", [["op": "transcode", "start": 1, "duration": 1.2, "mute": true]])
        let probed = try streams(path)
        #expect(probed.audio.isEmpty, "muted: \(probed)")
        #expect(abs(probed.duration - 1.2) < 0.041, "one frame at 25 fps: \(probed.duration) s")
    }

    @Test func keyframesComeEveryTwoSecondsAndNowhereElse() async throws {
        let path = try await runOperations("clip.mp4", [["op": "transcode"]])
        let keyframes = try ffprobe(["-select_streams", "v", "-show_entries", "frame=pts_time,pict_type", "-of", "csv=p=0", path])
            .split(separator: "\n").filter { $0.hasSuffix(",I") || $0.contains(",I,") }.compactMap { Double($0.split(separator: ",")[0]) }
        #expect(keyframes == [0, 2], "\(keyframes)")
    }

    @Test func rotationStaysMetadataAndTheBoxAppliesToThePictureAsShown() async throws {
        let rotated = try Fixture.rotatedClip()
        // Shown 240x320; a 120 px wide box gives 120x160 shown, stored 160x120 with the same rotation.
        let path = try await runOperations(rotated, [["op": "transcode", "width": 120]])
        let probed = try streams(path)
        #expect(probed.video.contains("160") && probed.video.contains("120"), "\(probed)")
        let rotation = try ffprobe(["-select_streams", "v", "-show_entries", "stream_side_data=rotation", "-of", "csv=p=0", path])
        #expect(rotation.contains("90"), "display matrix kept: \(rotation)")
    }

    @Test func aFrameRateCapDropsFramesEvenly() async throws {
        // 25 fps for 3 s, capped at 10: 30 frames, the same duration, keyframes still every 2 s.
        let path = try await runOperations("clip.mp4", [["op": "transcode", "fps": 10, "width": 160]])
        let facts = try ffprobe(["-select_streams", "v", "-count_frames", "-show_entries", "stream=nb_read_frames,avg_frame_rate", "-of", "csv=p=0", path])
        #expect(facts.contains("10/1") && facts.contains(",30"), "\(facts)")
        #expect(abs(try streams(path).duration - 3.0) < 0.06)
        // A cap above the source's rate changes nothing.
        let same = try await runOperations("clip.mp4", [["op": "transcode", "fps": 60, "width": 160]])
        #expect(try ffprobe(["-select_streams", "v", "-show_entries", "stream=avg_frame_rate", "-of", "csv=p=0", same]).contains("25/1"))
    }

    @Test func codecAndContainerMustMatch() async {
        let failure = await stageFailure("clip.mp4", [["op": "transcode", "format": "webm", "codec": "h264"]])
        #expect(failure?.message.contains("/operations/0/codec") == true, "\(String(describing: failure))")
    }
}
