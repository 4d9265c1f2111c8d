import Foundation
import KilnTestSupport
import VipsBindings

/// A cell's output did not come out as it should.
struct CheckFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw CheckFailure(message()) }
}

enum ImageCheck {
    /// Decodes an image file Kiln wrote and checks its size (within `slack` pixels),
    /// that it is upright (no orientation left to apply), and where the corner markers went.
    static func check(_ path: String, of file: CorpusFile, size: (width: Int, height: Int), slack: Int = 1,
                      turn: Turn?) throws {
        let image = try VipsImage.open(path: path).materialized()
        try require(abs(image.width - size.width) <= slack && abs(image.height - size.height) <= slack,
                    "\(image.width)x\(image.height), expected \(size.width)x\(size.height)")
        try require(image.orientation == 1, "orientation \(image.orientation) left in the output")
        guard let turn, file.hasMarkers, image.bands >= 3 else { return }
        let tolerance = file.colourTolerance ?? 70
        let spots = [(image.width / 16, image.height / 16), (image.width - 1 - image.width / 16, image.height / 16),
                     (image.width / 16, image.height - 1 - image.height / 16)]
        for (spot, expected) in zip(spots, turn.corners) {
            let pixel = Array(try image.pixel(x: spot.0, y: spot.1).prefix(3))
            let (seen, distance) = Marker.nearest(pixel, colours: file.markerColours)
            try require(seen == expected && distance <= tolerance,
                        "at (\(spot.0), \(spot.1)) \(pixel.map { Int($0) }) is not \(expected) (nearest \(seen), distance \(Int(distance)))")
        }
    }
}

/// What ffprobe says of a file Kiln wrote.
struct Probed {
    struct Stream {
        var type: String
        var codec: String
        var width: Int
        var height: Int
        var rotation: Int
        var channels: Int
        var frames: Int?
        /// As a player shows it: a display matrix of a quarter turn swaps the sides.
        var displayed: (width: Int, height: Int) { rotation % 180 == 0 ? (width, height) : (height, width) }
    }

    var duration: Double
    var streams: [Stream]
    var video: Stream? { streams.first { $0.type == "video" } }
    var audio: [Stream] { streams.filter { $0.type == "audio" } }

    init(_ path: String, countFrames: Bool = false) throws {
        let data = try runTool("ffprobe", ["-v", "error"] + (countFrames ? ["-count_frames"] : []) + [
            "-show_streams", "-show_format", "-of", "json", path])
        let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let format = root["format"] as? [String: Any] ?? [:]
        duration = Double(format["duration"] as? String ?? "") ?? 0
        streams = (root["streams"] as? [[String: Any]] ?? []).map { stream in
            let sideData = stream["side_data_list"] as? [[String: Any]] ?? []
            let rotation = sideData.compactMap { $0["rotation"] as? Int }.first ?? 0
            return Stream(type: stream["codec_type"] as? String ?? "", codec: stream["codec_name"] as? String ?? "",
                          width: stream["width"] as? Int ?? 0, height: stream["height"] as? Int ?? 0,
                          rotation: abs(rotation), channels: stream["channels"] as? Int ?? 0,
                          frames: Int(stream["nb_read_frames"] as? String ?? ""))
        }
    }
}

enum VideoCheck {
    /// One frame of `path` at `time`, scaled to `width` x `height`, as raw RGB bytes (ffmpeg's own decode).
    static func frame(_ path: String, at time: Double, width: Int, height: Int) throws -> [UInt8] {
        Array(try runTool("ffmpeg", ["-v", "error", "-ss", String(time), "-i", path, "-frames:v", "1",
                                     "-vf", "scale=\(width):\(height)", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
    }

    /// Mean absolute difference per byte between the output's frame and the source's at `time`,
    /// both decoded by ffmpeg at a small common size: garbage (a frame scaled as if it had
    /// another size or format) differs by far more than an encode does.
    static func difference(_ output: String, _ source: String, at time: Double) throws -> Double {
        let a = try frame(output, at: time, width: 160, height: 90), b = try frame(source, at: time, width: 160, height: 90)
        try require(a.count == b.count && !a.isEmpty, "no frame at \(time) s")
        return Double(zip(a, b).map { abs(Int($0) - Int($1)) }.reduce(0, +)) / Double(a.count)
    }
}

enum HLSCheck {
    /// Parses the master playlist and each rendition's, checks every segment is there and
    /// the segments add up to the source's duration; returns the renditions' playlists.
    static func check(directory: String, master: String, duration: Double) throws -> [String] {
        let text = try String(contentsOfFile: directory + "/" + master, encoding: .utf8)
        try require(text.hasPrefix("#EXTM3U"), "master playlist does not start with #EXTM3U")
        let lines = text.split(separator: "\n").map(String.init)
        let variants = lines.enumerated().compactMap { index, line in
            line.hasPrefix("#EXT-X-STREAM-INF") && index + 1 < lines.count ? lines[index + 1] : nil
        }
        let media = lines.filter { $0.hasPrefix("#EXT-X-MEDIA") }.compactMap { line -> String? in
            guard let range = line.range(of: "URI=\"") else { return nil }
            return String(line[range.upperBound...].prefix { $0 != "\"" })
        }
        try require(!variants.isEmpty, "no variant streams in the master playlist")
        let base = (directory + "/" + master as NSString).deletingLastPathComponent
        for playlist in variants + media {
            let path = base + "/" + playlist
            let body = try String(contentsOfFile: path, encoding: .utf8)
            try require(body.contains("#EXT-X-ENDLIST"), "\(playlist) has no EXT-X-ENDLIST")
            var total = 0.0
            var segments = 0
            let directory = (path as NSString).deletingLastPathComponent
            for line in body.split(separator: "\n") {
                if line.hasPrefix("#EXTINF:") { total += Double(line.dropFirst(8).prefix { $0 != "," }) ?? 0 }
                if !line.hasPrefix("#"), !line.isEmpty {
                    segments += 1
                    let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + line)
                    try require(((attributes?[.size] as? Int) ?? 0) > 0, "\(playlist) names \(line), which is missing or empty")
                }
            }
            try require(segments > 0, "\(playlist) has no segments")
            try require(abs(total - duration) <= 0.25, "\(playlist) lasts \(total) s, the source \(duration) s")
        }
        return variants
    }
}
