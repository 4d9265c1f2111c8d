import FFmpegBindings
import Foundation
import KilnTestSupport
import Testing

@Suite(.ownThreads) struct FrameGrabberTests {
    /// clip.mp4: 3.0 s of 320x240 testsrc at 25 fps.
    @Test(arguments: [(FramePosition.seconds(0), 0.0), (.seconds(1.5), 1.5), (.fraction(0.5), 1.5), (.seconds(2.0), 2.0)])
    func grabsTheFrameAtTheTimeAsked(_ position: FramePosition, _ expected: Double) throws {
        let frame = try FrameGrabber.grab(path: Fixture.path("clip.mp4"), at: position, maxPixels: 10_000_000)
        #expect(frame.width == 320 && frame.height == 240)
        #expect(frame.bytes.count == 320 * 240 * 3)
        #expect(abs(frame.time - expected) < 0.041, "asked \(expected) s, got the frame at \(frame.time) s")
        #expect(frame.rotation == 0)
    }

    @Test func pastTheEndGivesTheLastFrame() throws {
        let frame = try FrameGrabber.grab(path: Fixture.path("clip.mp4"), at: .seconds(60), maxPixels: 10_000_000)
        #expect(frame.time > 2.9 && frame.time < 3.0)
    }

    @Test func framesDifferAlongTheClip() throws {
        let first = try FrameGrabber.grab(path: Fixture.path("clip.mp4"), at: .seconds(0.2), maxPixels: 10_000_000)
        let later = try FrameGrabber.grab(path: Fixture.path("clip.mp4"), at: .seconds(2.2), maxPixels: 10_000_000)
        #expect(first.bytes != later.bytes)
    }

    @Test func rotationMetadataIsReported() throws {
        let rotated = try Fixture.rotatedClip()
        let frame = try FrameGrabber.grab(path: rotated, at: .seconds(1), maxPixels: 10_000_000)
        // That tag writes a display matrix of 90 degrees counter-clockwise (ffprobe: rotation=90);
        // the ffmpeg tool shows such frames turned 270 degrees clockwise, as Kiln must.
        #expect(frame.rotation == 270)
    }

    @Test func thePixelLimitHoldsAgainstTheHeader() {
        #expect(throws: FFmpegError.self) { try FrameGrabber.grab(path: Fixture.path("clip.mp4"), at: .seconds(1), maxPixels: 1000) }
    }

    @Test func audioHasNoFrame() {
        #expect(throws: FFmpegError.self) { try FrameGrabber.grab(path: Fixture.path("tone.mp3"), at: .seconds(1), maxPixels: 10_000_000) }
    }
}
