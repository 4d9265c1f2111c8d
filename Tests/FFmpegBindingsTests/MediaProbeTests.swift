import Foundation
import FFmpegBindings
import KilnTestSupport
import Testing

@Suite(.ownThreads) struct MediaProbeTests {
    @Test func probesDurationAndStreams() throws {
        let probe = try MediaProbe(path: Fixture.path("clip.mp4"))
        #expect(probe.format.contains("mp4"))
        let duration = try #require(probe.duration)
        #expect(abs(duration - 3.0) < 0.1, "duration was \(duration)")
        let video = try #require(probe.video)
        #expect(video.codec == "h264")
        #expect(video.width == 320 && video.height == 240)
        #expect(abs((video.frameRate ?? 0) - 25) < 0.01)
        let audio = try #require(probe.audio)
        #expect(audio.codec == "aac")
        #expect(audio.sampleRate == 44100)
    }

    @Test func probesAudioOnlyFiles() throws {
        let probe = try MediaProbe(path: Fixture.path("tone.mp3"))
        #expect(probe.video == nil)
        #expect(probe.audio?.codec == "mp3")
        #expect(abs((probe.duration ?? 0) - 2.0) < 0.1)
    }

    @Test func truncatedFileFailsWithAnError() {
        #expect(throws: FFmpegError.self) { try MediaProbe(path: Fixture.path("truncated.mp4")) }
    }

    @Test func randomBytesAreNotAFormatWeAccept() {
        #expect(throws: FFmpegError.self) { try MediaProbe(path: Fixture.path("random.bin")) }
    }

    @Test func imageDemuxersAreNotAllowed() {
        // A JPEG would open through FFmpeg's image2 demuxers; the whitelist refuses them.
        #expect(throws: FFmpegError.self) { try MediaProbe(path: Fixture.path("photo-exif6.jpg")) }
    }

    @Test func aStoppedFlagInterruptsOpening() {
        let flag = InterruptFlag()
        flag.stop()
        #expect(throws: FFmpegError.interrupted) { try MediaProbe(path: Fixture.path("clip.mp4"), interrupt: flag) }
    }
}

import Synchronization

@Suite(.ownThreads) struct FFmpegLogTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
    }

    @Test func aPassedDeadlineInterruptsOpening() {
        let flag = InterruptFlag(deadline: .now - .seconds(1))
        #expect(throws: FFmpegError.interrupted) { try MediaProbe(path: Fixture.path("clip.mp4"), interrupt: flag) }
    }

    @Test func aFileDeclaringTooManyStreamsIsRefused() throws {
        // 40 audio streams in one Matroska file: more than any upload needs.
        let path = NSTemporaryDirectory() + "streams-\(UUID().uuidString).mka"
        try runTool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.2"]
            + (0..<40).flatMap { _ in ["-map", "0:a"] } + ["-c:a", "pcm_s16le", path])
        #expect(throws: FFmpegError.self) { try MediaProbe(path: path) }
    }

    @Test func errorsReachTheInstalledSink() throws {
        let seen = Lines()
        let token = FFmpeg.addLogSink { _, line in seen.lines.withLock { $0.append(line) } }
        defer { FFmpeg.removeLogSink(token) }
        _ = try? MediaProbe(path: Fixture.path("truncated.mp4"))
        let lines = seen.lines.withLock { $0 }
        #expect(lines.contains { $0.contains("moov atom not found") }, "got \(lines)")
    }
}
