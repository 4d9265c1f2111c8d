import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Video edits (`videoCrop`, `videoRotate`, `videoWatermark`, `trim`, `speed`)
/// applied by `transcode`: every output decoded by ffmpeg and checked against
/// ffmpeg's own decode of the source, and its sound's pitch measured.
@Suite(.ownThreads) struct VideoEditTests {
    /// A portrait phone clip stored turned (display matrix), 2 s with sound.
    static let phoneVideo = "corpus/phone-hevc-rot90.mov"
    /// 1280x720, 2 s, no sound.
    static let landscape = "corpus/no-audio.mp4"

    struct Stream { var kind: String, width: Int?, height: Int?, duration: Double, frames: Int?, rotation: Int? }

    static func streams(_ path: String) async throws -> [Stream] {
        let data = try await runToolOffPool("ffprobe", ["-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", path])
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let format = Double((json["format"] as? [String: Any])?["duration"] as? String ?? "") ?? 0
        return (json["streams"] as? [[String: Any]] ?? []).map { stream in
            let sides = stream["side_data_list"] as? [[String: Any]] ?? []
            return Stream(kind: stream["codec_type"] as? String ?? "", width: stream["width"] as? Int, height: stream["height"] as? Int,
                          duration: Double(stream["duration"] as? String ?? "") ?? format,
                          frames: Int(stream["nb_read_frames"] as? String ?? ""), rotation: sides.compactMap { $0["rotation"] as? Int }.first)
        }
    }

    /// ffmpeg's decode of the frame shown at `seconds`, upright, through `filter`
    /// (BT.709, as Kiln and players read HD video; untagged SD is read as BT.601), as an image.
    static func frame(_ path: String, at seconds: Double, filter: String = "null", matrix: String = "bt709") async throws -> VipsImage {
        let still = NSTemporaryDirectory() + "kiln-edit-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: still) }
        _ = try await runToolOffPool("ffmpeg", ["-v", "error", "-ss", String(seconds), "-i", path, "-frames:v", "1",
                                                "-vf", "\(filter),scale=in_color_matrix=\(matrix):flags=accurate_rnd+full_chroma_int", still])
        return try VipsImage.open(path: still).materialized()
    }

    /// Mean absolute difference per byte of the two images' sRGB values over a region.
    static func difference(_ a: VipsImage, _ b: VipsImage, x: Int = 0, y: Int = 0, width: Int? = nil, height: Int? = nil) throws -> Double {
        let w = width ?? min(a.width, b.width) - x, h = height ?? min(a.height, b.height) - y
        let one = try a.cropped(x: x, y: y, width: w, height: h).rgbBytes(), two = try b.cropped(x: x, y: y, width: w, height: h).rgbBytes()
        return zip(one, two).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(max(1, one.count))
    }

    /// The pitch of a steady tone: zero crossings of the first channel, decoded by ffmpeg, over the middle of the sound.
    static func pitch(_ path: String) async throws -> Double {
        let data = try await runToolOffPool("ffmpeg", ["-v", "error", "-i", path, "-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"])
        let samples = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        let middle = samples[samples.count / 4 ..< samples.count * 3 / 4]
        var crossings = 0
        for (a, b) in zip(middle, middle.dropFirst()) where (a < 0) != (b < 0) { crossings += 1 }
        return Double(crossings) / 2 / (Double(middle.count) / 48_000)
    }

    /// 4 s of ffmpeg's test picture at 30 fps with a 440 Hz tone, made for the test.
    static func toneVideo() async throws -> String {
        let path = NSTemporaryDirectory() + "kiln-tone-\(UUID().uuidString).mp4"
        _ = try await runToolOffPool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=4",
                                                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=4",
                                                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path])
        return path
    }

    @Test func aRoundVideoNoteIsTheUprightCentreInACircle() async throws {
        let path = try await runOperations(Self.phoneVideo, [["op": "videoCrop", "shape": "circle"], ["op": "transcode", "width": 384]])
        let streams = try await Self.streams(path)
        let video = try #require(streams.first { $0.kind == "video" })
        #expect(video.width == 384 && video.height == 384 && video.rotation == nil, "\(video)")
        #expect(abs(video.duration - 2) < 0.05 && video.frames == 60, "\(video)")
        #expect(streams.contains { $0.kind == "audio" && abs($0.duration - 2) < 0.05 }, "the sound is kept: \(streams)")
        let ours = try await Self.frame(path, at: 1)
        // ffmpeg turns the source upright (its display matrix); the centre square of 1080x1920, scaled as Kiln scales.
        let upright = try await Self.frame(Fixture.path(Self.phoneVideo), at: 1, filter: "crop=1080:1080:0:420,scale=384:384")
        // Inside the circle the picture, away from the rim ...
        let inside = try Self.difference(ours, upright, x: 112, y: 112, width: 160, height: 160)
        #expect(inside < 6, "the centre differs from ffmpeg's by \(inside)")
        // ... and outside it the background, black.
        for (x, y) in [(2, 2), (378, 2), (2, 378), (378, 378)] {
            let corner = try ours.cropped(x: x, y: y, width: 4, height: 4).rgbBytes()
            #expect(corner.allSatisfy { $0 < 24 }, "corner \(x),\(y): \(corner.prefix(3))")
        }
    }

    @Test func twiceAsFastKeepsThePitch() async throws {
        let tone = try await Self.toneVideo()
        defer { try? FileManager.default.removeItem(atPath: tone) }
        let source = try await Self.pitch(tone)
        #expect(abs(source - 440) < 5, "the source's tone: \(source) Hz")
        for (factor, seconds) in [(2.0, 2.0), (0.5, 8.0)] {
            let path = try await runOperations(tone, [["op": "speed", "factor": .number(factor)], ["op": "transcode"]])
            let streams = try await Self.streams(path)
            let video = try #require(streams.first { $0.kind == "video" }), audio = try #require(streams.first { $0.kind == "audio" })
            #expect(abs(video.duration - seconds) < 0.1 && abs(audio.duration - seconds) < 0.1, "\(factor)x: \(streams)")
            // Every frame is kept: a faster video shows them at a higher rate.
            #expect(video.frames.map { abs($0 - 120) <= 1 } == true, "\(factor)x: \(video.frames ?? 0) frames")
            let pitch = try await Self.pitch(path)
            #expect(abs(pitch - source) < 10, "\(factor)x: \(pitch) Hz; resampled it would be \(source * factor)")
        }
    }

    @Test func aTrimAfterASpeedCountsThePlayedSeconds() async throws {
        let tone = try await Self.toneVideo()
        defer { try? FileManager.default.removeItem(atPath: tone) }
        // Twice as fast, the 4 s play in 2; a second from 0.5 s played is the source's 1 s to 3 s.
        let path = try await runOperations(tone, [["op": "speed", "factor": 2], ["op": "trim", "start": 0.5, "duration": 1],
                                                  ["op": "transcode", "width": 320]])
        let streams = try await Self.streams(path)
        let video = try #require(streams.first { $0.kind == "video" })
        #expect(abs(video.duration - 1) < 0.05 && video.frames.map { abs($0 - 60) <= 1 } == true, "\(video)")
        #expect(streams.contains { $0.kind == "audio" && abs($0.duration - 1) < 0.05 }, "\(streams)")
        // Its first frame is the source's at 1 s (testsrc2 draws a moving picture, so the times tell apart).
        let first = try await Self.frame(path, at: 0), expected = try await Self.frame(tone, at: 1, filter: "scale=320:180")
        let wrong = try await Self.frame(tone, at: 0.5, filter: "scale=320:180")
        let near = try Self.difference(first, expected), far = try Self.difference(first, wrong)
        #expect(near < 6 && near < far / 2, "the first frame: \(near) from the source's at 1 s, \(far) from 0.5 s")
        let error = await stageFailure(tone, [["op": "trim", "start": 600], ["op": "transcode"]])
        #expect(error?.code == "trim_outside_video", "\(String(describing: error))")
    }

    /// `frame` after edits: the picture as edited, at the time as the edited video plays.
    @Test func aFrameOfAnEditedVideoIsTheEditedPicture() async throws {
        // The phone clip, upright 1080x1920: its centre square, at 0.5 s of a trim from 0.5 s, is the source's at 1 s.
        let square = try await runOperations(Self.phoneVideo, [["op": "videoCrop", "aspect": "1:1"], ["op": "trim", "start": 0.5],
                                                               ["op": "frame", "time": 0.5], ["op": "encode", "format": "png"]])
        let ours = try VipsImage.open(path: square).materialized()
        #expect(ours.width == 1080 && ours.height == 1080, "\(ours.width)x\(ours.height)")
        let theirs = try await Self.frame(Fixture.path(Self.phoneVideo), at: 1, filter: "crop=1080:1080:0:420")
        let near = try Self.difference(ours, theirs)
        let early = try await Self.frame(Fixture.path(Self.phoneVideo), at: 0.5, filter: "crop=1080:1080:0:420")
        let far = try Self.difference(ours, early)
        print("frame of a cropped, trimmed video: \(near) per byte from ffmpeg's centre square at 1 s, \(far) from the one at 0.5 s")
        #expect(near < 4 && near < far / 2, "\(near) from ffmpeg's centre square at 1 s, \(far) from the one at 0.5 s")

        // Twice as fast and turned: 50 % of the played 1 s is the source's 1 s, turned clockwise.
        let tone = try await Self.toneVideo()
        defer { try? FileManager.default.removeItem(atPath: tone) }
        let turned = try await runOperations(tone, [["op": "speed", "factor": 2], ["op": "videoRotate", "angle": 90],
                                                    ["op": "frame", "percent": 50], ["op": "encode", "format": "png"]])
        let picture = try VipsImage.open(path: turned).materialized()
        #expect(picture.width == 360 && picture.height == 640, "\(picture.width)x\(picture.height)")
        // The tone video is 640x360 and untagged: SD, so BT.601.
        let expected = try await Self.frame(tone, at: 2, filter: "transpose=clock", matrix: "bt601")
        let before = try await Self.frame(tone, at: 1, filter: "transpose=clock", matrix: "bt601")
        let right = try Self.difference(picture, expected), wrong = try Self.difference(picture, before)
        print("frame of a sped-up, turned video: \(right) per byte from ffmpeg's turned frame at 2 s, \(wrong) from the one at 1 s")
        #expect(right < 4 && right < wrong / 2, "\(right) from the source's turned frame at 2 s, \(wrong) from the one at 1 s")

        // A circle's background is in the frame too.
        let round = try await runOperations(Self.phoneVideo, [["op": "videoCrop", "shape": "circle", "background": "#ffffff"],
                                                              ["op": "frame"], ["op": "thumbnail", "width": 200], ["op": "encode", "format": "png"]])
        let corner = try VipsImage.open(path: round).materialized().cropped(x: 0, y: 0, width: 6, height: 6).rgbBytes()
        #expect(corner.allSatisfy { $0 > 230 }, "the corner: \(corner.prefix(3))")
    }

    @Test func aTurnedVideoIsTurnedInThePixels() async throws {
        let path = try await runOperations(Self.landscape, [["op": "videoRotate", "angle": 90], ["op": "transcode", "width": 360]])
        let video = try #require(try await Self.streams(path).first)
        #expect(video.width == 360 && video.height == 640 && video.rotation == nil, "\(video)")
        let ours = try await Self.frame(path, at: 1), theirs = try await Self.frame(Fixture.path(Self.landscape), at: 1, filter: "transpose=clock,scale=360:640")
        let difference = try Self.difference(ours, theirs)
        #expect(difference < 6, "\(difference) from ffmpeg's transpose")
        let anticlockwise = try await Self.frame(Fixture.path(Self.landscape), at: 1, filter: "transpose=cclock,scale=360:640")
        #expect(try Self.difference(ours, anticlockwise) > difference * 2, "not the other way round")
    }

    @Test func aMarkOverVideoIsTheImageWatermarksMark() async throws {
        let logo = "assets/kiln-logo.png"
        let path = try await runOperations(Self.landscape, [["op": "videoWatermark", "image": .string(logo), "gravity": "northwest", "margin": 0,
                                                             "opacity": 1, "scale": 0.25],
                                                            ["op": "videoWatermark", "text": "Kiln", "gravity": "south", "fontSize": 48],
                                                            ["op": "transcode", "width": 640]])
        let ours = try await Self.frame(path, at: 1), source = try await Self.frame(Fixture.path(Self.landscape), at: 1, filter: "scale=640:360")
        // The mark as libvips draws it over the source's frame: 160 px wide at the top left.
        let mark = try VipsImage.open(path: Fixture.repositoryRoot + "/Pipelines/" + logo)
        let sized = try mark.resized(xScale: 160 / Double(mark.width), yScale: 160 / Double(mark.width))
        let expected = try source.composited(sized.inSRGB().addingAlpha(), x: 0, y: 0)
        let onMark = try Self.difference(ours, expected, width: sized.width, height: sized.height)
        let withoutMark = try Self.difference(ours, source, width: sized.width, height: sized.height)
        #expect(onMark < 8 && withoutMark > onMark * 3, "the mark: \(onMark) from libvips' composite, \(withoutMark) from the bare frame")
        // The text, white, near the bottom; the rest of the picture untouched.
        let band = try ours.cropped(x: 220, y: 290, width: 200, height: 60).rgbBytes()
        #expect(band.count(where: { $0 > 240 }) > band.count / 20, "white text at the bottom")
        let middle = try Self.difference(ours, source, x: 200, y: 100, width: 300, height: 150)
        #expect(middle < 6, "the middle: \(middle)")
    }

    /// A story: cropped to 9:16 and twice as fast, streamed. The rungs are sized
    /// for the cropped picture, every rendition lasts the faster 2 s, and the sound keeps its pitch.
    @Test func editsApplyToAnHLSLadder() async throws {
        let tone = try await Self.toneVideo()
        defer { try? FileManager.default.removeItem(atPath: tone) }
        let outputs = try await runLocally(tone, ["outputs": ["story": [
            ["op": "videoCrop", "aspect": "9:16"], ["op": "speed", "factor": 2],
            ["op": "hls", "renditions": [["height": 360], ["height": 180]], "segmentSeconds": 1, "preset": "ultrafast"],
        ]]])
        let master = try #require(outputs["story"]?.files.first { $0.file.name == "master.m3u8" })
        let directory = (master.path as NSString).deletingLastPathComponent
        let (variants, audio) = try HLSStageTests.variants(master: master.path)
        #expect(variants.map { $0.attributes["RESOLUTION"] } == ["202x360", "102x180"], "\(variants.map(\.attributes))")
        for playlist in variants.map(\.uri) + [try #require(audio?["URI"])] {
            let media = try HLSStageTests.Media(directory + "/" + playlist)
            let seconds = media.segments.reduce(0) { $0 + $1.duration }
            #expect(media.ended && abs(seconds - 2) < 0.05, "\(playlist): \(seconds) s in \(media.segments.count) segments")
            let base = ((directory + "/" + playlist) as NSString).deletingLastPathComponent
            for segment in media.segments where playlist != audio?["URI"] {
                let first = try HLSStageTests.firstVideoPacket(base + "/" + segment.uri, init: nil)
                #expect(first.keyframe, "\(playlist) \(segment.uri) starts with a keyframe")
            }
        }
        // The top rung's picture half a second in is the source's centre at 1 s.
        let top = directory + "/" + variants[0].uri
        let ours = try await Self.frame(top, at: 0.5)
        let expected = try await Self.frame(tone, at: 1, filter: "crop=202:360:218:0")
        let early = try await Self.frame(tone, at: 0.5, filter: "crop=202:360:218:0")
        let near = try Self.difference(ours, expected), far = try Self.difference(ours, early)
        #expect(ours.width == 202 && ours.height == 360 && near < 8 && near < far / 2, "\(near) from the source's 1 s, \(far) from 0.5 s")
        let pitch = try await Self.pitch(directory + "/" + (audio?["URI"] ?? ""))
        #expect(abs(pitch - 440) < 10, "the stream's sound: \(pitch) Hz")
    }

    @Test func theVideoNotePipeline() async throws {
        let outputs = try await runLocally(Self.phoneVideo, ["pipeline": "video-note"])
        for name in ["note", "round"] {
            let file = try #require(outputs[name]?.files.first)
            #expect(file.file.width == 384 && file.file.height == 384 && file.file.contentType == "video/mp4", "\(name): \(file.file)")
            #expect(abs((file.file.duration ?? 0) - 2) < 0.05, "\(name): \(file.file)")
        }
        let round = try await Self.frame(try #require(outputs["round"]?.files.first).path, at: 1)
        #expect(try round.cropped(x: 0, y: 0, width: 6, height: 6).rgbBytes().allSatisfy { $0 > 230 }, "white outside the circle")
        let poster = try VipsImage.open(path: try #require(outputs["poster"]?.files.first).path)
        #expect(poster.width == 384 && poster.height == 384)
    }

    @Test func editsAreValidatedWithPointers() throws {
        let registry = Stages.registry
        func pointer(_ operations: JSONValue) -> String? {
            do {
                _ = try registry.plan(operations: operations, input: .video, at: JSONPointer())
                return nil
            } catch { return error.pointer.description }
        }
        #expect(pointer([["op": "videoCrop"], ["op": "transcode"]]) == "/0")
        #expect(pointer([["op": "videoCrop", "aspect": "wide"], ["op": "transcode"]]) == "/0/aspect")
        #expect(pointer([["op": "videoCrop", "width": 200], ["op": "transcode"]]) == "/0/height")
        #expect(pointer([["op": "videoRotate", "angle": 45], ["op": "transcode"]]) == "/0/angle")
        #expect(pointer([["op": "speed", "factor": 8], ["op": "transcode"]]) == "/0/factor")
        #expect(pointer([["op": "videoCrop", "aspect": "1:1"], ["op": "encode"]]) == "/1/op", "an edited video is encoded by transcode")
        #expect(pointer([["op": "videoCrop", "aspect": "1:1"]]) == "", "an edited video must be encoded")
        #expect(pointer([["op": "speed", "factor": 2], ["op": "transcode"]]) == nil)
    }
}
