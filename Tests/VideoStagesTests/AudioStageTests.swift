import Foundation
import KilnTestSupport
import PipelineEngine
import Testing

/// Every audio output checked by ffprobe: codec, sample rate, channels, duration.
@Suite(.ownThreads) struct AudioStageTests {
    struct Probed { var codec: String, sampleRate: Int, channels: Int, duration: Double, format: String }

    func ffprobe(_ path: String) throws -> Probed {
        let data = try runTool("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries",
                                           "stream=codec_name,sample_rate,channels:format=duration,format_name", "-of", "json", path])
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let stream = try #require((json["streams"] as? [[String: Any]])?.first)
        let format = try #require(json["format"] as? [String: Any])
        return Probed(codec: stream["codec_name"] as? String ?? "", sampleRate: Int(stream["sample_rate"] as? String ?? "") ?? 0,
                      channels: stream["channels"] as? Int ?? 0, duration: Double(format["duration"] as? String ?? "") ?? 0,
                      format: format["format_name"] as? String ?? "")
    }

    @Test(arguments: [
        ("tone.mp3", "aac", "aac", "mov,mp4,m4a,3gp,3g2,mj2", 44100, 2.0),
        ("tone.mp3", "opus", "opus", "ogg", 48000, 2.0),
        ("clip.mp4", "mp3", "mp3", "mp3", 44100, 3.0),
        ("clip.mp4", "webm", "opus", "matroska,webm", 48000, 3.0),
    ])
    func everyFormatIsWhatFFprobeSees(_ fixture: String, _ format: String, _ codec: String, _ container: String, _ rate: Int, _ seconds: Double) async throws {
        let path = try await runOperations(fixture, [["op": "audio", "format": .string(format)]])
        let probed = try ffprobe(path)
        #expect(probed.codec == codec && probed.format == container && probed.sampleRate == rate)
        #expect(abs(probed.duration - seconds) < 0.06, "\(format): \(probed.duration) s")
    }

    @Test func trimResampleAndMixDown() async throws {
        let path = try await runOperations("clip.mp4", [["op": "audio", "format": "aac", "start": 0.5, "duration": 1.25, "sampleRate": 22050, "channels": 1, "bitRate": 64]])
        let probed = try ffprobe(path)
        #expect(probed.sampleRate == 22050 && probed.channels == 1)
        #expect(abs(probed.duration - 1.25) < 0.06, "\(probed.duration) s")
    }

    @Test func imagesHaveNoAudio() async {
        let failure = await stageFailure("gradient.webp", [["op": "audio"]])
        #expect(failure?.code == "unexpected")
    }
}

/// probe's facts checked against what the file was made with.
@Suite(.ownThreads) struct ProbeStageTests {
    func ffmpeg(_ arguments: [String]) throws { try runTool("ffmpeg", ["-v", "error"] + arguments) }

    @Test func tagsAndCoverArtOfAnMP3() async throws {
        let song = NSTemporaryDirectory() + "song-\(UUID().uuidString).mp3"
        try ffmpeg(["-i", Fixture.path("tone.mp3"), "-i", Fixture.path("photo-exif6.jpg"), "-map", "0:a", "-map", "1", "-c", "copy",
                    "-id3v2_version", "3", "-metadata", "title=Tone", "-metadata", "artist=Kiln", "-metadata", "album=Fixtures",
                    "-disposition:v", "attached_pic", song])
        let outputs = try await runLocally(song, ["operations": [["op": "probe"]]])
        let output = try #require(outputs["default"])
        let metadata = try #require(output.results["metadata"])
        #expect(metadata["tags"]?["title"] == "Tone" && metadata["tags"]?["artist"] == "Kiln" && metadata["tags"]?["album"] == "Fixtures")
        #expect(metadata["streams"]?.arrayValue?.contains { $0["isCoverArt"] == true } == true)
        let cover = try #require(output.files.first)
        #expect(cover.file.contentType == "image/jpeg")
        #expect(try Data(contentsOf: URL(fileURLWithPath: cover.path)) == Fixture.data("photo-exif6.jpg"))
    }

    @Test func profileAndRotationOfAVideo() async throws {
        let rotated = try Fixture.rotatedClip()
        let outputs = try await runLocally(rotated, ["operations": [["op": "probe"]]])
        let streams = try #require(outputs["default"]?.results["metadata"]?["streams"]?.arrayValue)
        let video = try #require(streams.first { $0["kind"] == "video" })
        #expect(video["rotation"] == 270 && video["profile"]?.stringValue?.isEmpty == false, "\(video)")
        #expect(outputs["default"]?.files.isEmpty == true)
    }
}
