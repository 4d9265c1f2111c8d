import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import VipsBindings

extension MatrixVariants {
    /// A video's duration: the manifest's, which the corpus script made it.
    static func duration(_ file: CorpusFile) -> Double { file.duration ?? 0 }

    /// Frames of the source that came out garbled (a frame scaled as if it had another size or
    /// format) show as a large difference from ffmpeg's own decode of the source.
    static func faithful(_ output: String, to file: CorpusFile) throws {
        for time in [0.5, 1.5] where time < duration(file) {
            let difference = try VideoCheck.difference(output, file.path, at: time)
            try require(difference < 24, "the frame at \(time) s differs from the source's by \(Int(difference)) per byte")
        }
    }

    static var media: [Variant] {
        [
            Variant(label: "probe", operations: [["op": "probe"]], kinds: [.video, .audio], only: nil) { file, output in
                let metadata = output.results["metadata"]?.objectValue ?? [:]
                let seconds = metadata["duration"]?.doubleValue ?? 0
                try require(abs(seconds - duration(file)) <= 0.1, "duration \(seconds), expected \(duration(file))")
                if file.kind == .video {
                    let video = metadata["streams"]?.arrayValue?.first { $0.objectValue?["kind"]?.stringValue == "video" }?.objectValue ?? [:]
                    let rotation = video["rotation"]?.intValue ?? 0
                    let width = video["width"]?.intValue ?? 0, height = video["height"]?.intValue ?? 0
                    let shown = rotation % 180 == 0 ? (width, height) : (height, width)
                    try require(shown == file.displayed, "probe shows \(shown.0)x\(shown.1) (rotation \(rotation)), displayed \(file.displayed)")
                }
            },
            Variant(label: "frame", operations: [["op": "frame"]], kinds: [.video], only: nil) { file, output in
                try ImageCheck.check(try onlyFile(output), of: file, size: file.middle, slack: 0, turn: Turn.none)
            },
            Variant(label: "thumbnail 320", operations: [["op": "thumbnail", "width": 320]], kinds: [.video], only: nil) { file, output in
                let (w, h) = file.middle
                try ImageCheck.check(try onlyFile(output), of: file, size: scaled(w, h, 320 / Double(w)), turn: Turn.none)
            },
            Variant(label: "storyboard", operations: [["op": "storyboard", "count": 8]], kinds: [.video], only: nil) { file, output in
                guard let vtt = files(output, ".vtt").first, let sprite = files(output, ".jpg").first else {
                    throw CheckFailure("no sprite and WebVTT")
                }
                let cues = try String(contentsOfFile: vtt, encoding: .utf8).components(separatedBy: " --> ").count - 1
                try require(cues == 8, "\(cues) cues, expected 8")
                // Tiles keep the picture's aspect: the stream's, or where frames change size, possibly the middle one's.
                let tiles = Set([file.displayed, file.middle].map { size in (160 * 5, rounded(160 * Double(size.height) / Double(size.width)) * 2) }.map { "\($0.0)x\($0.1)" })
                let image = try VipsImage.open(path: sprite)
                try require(tiles.contains("\(image.width)x\(image.height)"), "sprite \(image.width)x\(image.height), expected one of \(tiles.sorted())")
            },
            // Two seconds at 5 frames a second, as an animated WebP: every frame, upright, at the picture's aspect.
            Variant(label: "clip→webp", operations: [["op": "clip", "duration": 2, "fps": 5, "width": 160], ["op": "encode", "format": "webp"]],
                    kinds: [.video], only: nil) { file, output in
                let path = try onlyFile(output)
                let stacked = try VipsImage.openAllPages(path: path, loader: "webpload")
                let expected = Int((min(2, duration(file)) * 5).rounded(.up))
                try require(stacked.pageCount == expected, "\(stacked.pageCount) frames, expected \(expected)")
                try require(Set(stacked.frameDelays) == [200], "delays \(stacked.frameDelays)")
                let sizes = Set([file.displayed, file.middle].map { size in
                    let width = min(160, size.width)
                    return "\(width)x\(rounded(Double(width) * Double(size.height) / Double(size.width)))"
                })
                try require(sizes.contains("\(stacked.width)x\(stacked.pageHeight)"), "frames \(stacked.width)x\(stacked.pageHeight), expected one of \(sizes.sorted())")
            },
            // A round video note: the upright centre square in a circle, the sound kept, no display matrix.
            Variant(label: "video note", operations: [["op": "videoCrop", "shape": "circle"], ["op": "transcode", "width": 240, "preset": "ultrafast"]],
                    kinds: [.video], only: nil) { file, output in
                let path = try onlyFile(output)
                let probed = try Probed(path)
                guard let video = probed.video else { throw CheckFailure("no video stream") }
                let side = min(240, min(file.displayed.width, file.displayed.height) / 2 * 2)
                try require(video.width == side && video.height == side && video.rotation == 0, "\(video.width)x\(video.height) turned \(video.rotation)")
                try require(abs(probed.duration - duration(file)) <= 0.1, "duration \(probed.duration), expected \(duration(file))")
                try require(probed.audio.count == min(1, file.audioStreams ?? 0), "\(probed.audio.count) audio streams")
                // The middle of the circle against ffmpeg's centre square of the source, both at 64x64.
                let crop = "crop=min(iw\\,ih):min(iw\\,ih),scale=64:64"
                let ours = Array(try runTool("ffmpeg", ["-v", "error", "-ss", "0.5", "-i", path, "-frames:v", "1", "-vf", "scale=64:64",
                                                        "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
                let theirs = Array(try runTool("ffmpeg", ["-v", "error", "-ss", "0.5", "-i", file.path, "-frames:v", "1", "-vf", crop,
                                                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
                try require(ours.count == 64 * 64 * 3 && theirs.count == ours.count, "no frame at 0.5 s")
                var total = 0, count = 0
                for y in 20..<44 {
                    for x in 20..<44 {
                        for c in 0..<3 { total += abs(Int(ours[(y * 64 + x) * 3 + c]) - Int(theirs[(y * 64 + x) * 3 + c])); count += 1 }
                    }
                }
                try require(Double(total) / Double(count) < 24, "the middle differs from the source's by \(total / count) per byte")
                try require(ours[0..<3].allSatisfy { $0 < 24 }, "the corner is not the black outside the circle: \(Array(ours[0..<3]))")
            },
            Variant(label: "waveform", operations: [["op": "waveform"]], kinds: [.video, .audio], only: { $0.hasAudio }) { _, output in
                let data = output.results["waveform"]?.objectValue?["data"]?.arrayValue ?? []
                try require(data.count >= 2 * 700, "\(data.count) waveform values, expected about 1,600")
            },
            Variant(label: "audio", operations: [["op": "audio"]], kinds: [.video, .audio], only: { $0.hasAudio }) { file, output in
                let probed = try Probed(try onlyFile(output))
                try require(probed.audio.count == 1 && probed.video == nil, "streams: \(probed.streams.map(\.codec))")
                try require(abs(probed.duration - duration(file)) <= 0.1, "duration \(probed.duration), expected \(duration(file))")
            },
            Variant(label: "audio opus", operations: [["op": "audio", "format": "opus"]], kinds: [.audio], only: nil) { file, output in
                let probed = try Probed(try onlyFile(output))
                try require(probed.audio.first?.codec == "opus", "streams: \(probed.streams.map(\.codec))")
                try require(abs(probed.duration - duration(file)) <= 0.1, "duration \(probed.duration), expected \(duration(file))")
            },
            Variant(label: "loudnorm", operations: [["op": "loudnorm"]], kinds: [.video, .audio], only: { $0.hasAudio }) { file, output in
                let probed = try Probed(try onlyFile(output))
                try require(abs(probed.duration - duration(file)) <= 0.1, "duration \(probed.duration), expected \(duration(file))")
            },
            Variant(label: "transcode", operations: [["op": "transcode"]], kinds: [.video], only: nil) { file, output in
                let path = try onlyFile(output)
                let probed = try Probed(path, countFrames: true)
                guard let video = probed.video else { throw CheckFailure("no video stream") }
                try require(video.displayed == file.displayed, "displayed \(video.displayed), expected \(file.displayed)")
                try require(abs(probed.duration - duration(file)) <= 0.1, "duration \(probed.duration), expected \(duration(file))")
                if let frames = file.frames { try require(video.frames == frames, "\(video.frames ?? -1) frames, expected \(frames)") }
                try require(probed.audio.count == min(1, file.audioStreams ?? 0), "\(probed.audio.count) audio streams")
                try faithful(path, to: file)
            },
            Variant(label: "transcode 360 webm", operations: [["op": "transcode", "format": "webm", "height": 360, "preset": "ultrafast"]],
                    kinds: [.video], only: nil) { file, output in
                let path = try onlyFile(output)
                let probed = try Probed(path)
                guard let video = probed.video else { throw CheckFailure("no video stream") }
                let (w, h) = file.displayed
                let scale = min(1, 360 / Double(h))
                try require(abs(video.displayed.height - rounded(Double(h) * scale)) <= 2 && abs(video.displayed.width - rounded(Double(w) * scale)) <= 2,
                            "displayed \(video.displayed) from \(file.displayed)")
                try require(abs(probed.duration - duration(file)) <= 0.1, "duration \(probed.duration), expected \(duration(file))")
                try faithful(path, to: file)
            },
            Variant(label: "hls", operations: [["op": "hls", "renditions": [["height": 360]], "segmentSeconds": 1]], kinds: [.video], only: nil) { file, output in
                guard let master = output.files.first(where: { $0.path.hasSuffix("master.m3u8") }) else { throw CheckFailure("no master playlist") }
                let directory = (master.path as NSString).deletingLastPathComponent
                let variants = try HLSCheck.check(directory: directory, master: "master.m3u8", duration: duration(file))
                let first = directory + "/" + ((variants[0] as NSString).deletingLastPathComponent) + "/seg_00000.ts"
                guard let video = try Probed(first).video else { throw CheckFailure("no video in \(first)") }
                let (w, h) = file.displayed
                // A rung's height is the displayed picture's (never above the source's); the width follows.
                let scale = min(1, 360 / Double(h))
                let expected = (rounded(Double(w) * scale), rounded(Double(h) * scale))
                try require(abs(video.displayed.width - expected.0) <= 2 && abs(video.displayed.height - expected.1) <= 2,
                            "the rung is \(video.displayed), expected about \(expected)")
            },
        ]
    }
}
