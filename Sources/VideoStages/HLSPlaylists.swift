import Foundation

/// A media playlist as libavformat's `hls` muxer writes it, read for what Kiln
/// needs: its segments, its init section, and the VOD form of its text.
struct MediaPlaylist {
    struct Segment: Equatable {
        var uri: String
        var duration: Double
    }

    var segments: [Segment] = []
    /// The fMP4 init section's URI (`EXT-X-MAP`).
    var map: String?
    var text: String

    init(text: String) {
        self.text = text
        var pendingDuration: Double?
        for line in text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("#EXTINF:") {
                pendingDuration = Double(line.dropFirst("#EXTINF:".count).prefix { $0 != "," })
            } else if line.hasPrefix("#EXT-X-MAP:"), let uri = Self.attribute("URI", in: line) {
                map = uri
            } else if !line.isEmpty, !line.hasPrefix("#"), let duration = pendingDuration {
                segments.append(Segment(uri: line, duration: duration))
                pendingDuration = nil
            }
        }
    }

    init(contentsOf path: String) throws {
        self.init(text: try String(contentsOfFile: path, encoding: .utf8))
    }

    /// The playlist with its last segment lasting `seconds`, and a target duration that covers it.
    ///
    /// The hls muxer closes the last segment at the trailer and counts its length from its
    /// packets at the stream's nominal frame rate: with a variable frame rate (15 frames at
    /// 15 fps, counted at 30) it said 0.5 s for a segment of 1 s. The others are cut between
    /// two timestamps and are right; the end of the pictures comes from their own timestamps.
    func endingAt(videoSeconds seconds: Double) -> MediaPlaylist {
        guard let last = segments.last, seconds > 0 else { return self }
        let before = segments.dropLast().reduce(0) { $0 + $1.duration }
        let length = seconds - before
        guard length > 0, abs(length - last.duration) > 0.001 else { return self }
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard let index = lines.lastIndex(where: { $0.hasPrefix("#EXTINF:") }) else { return self }
        lines[index] = String(format: "#EXTINF:%.6f,", length)
        let longest = max(length, segments.dropLast().map(\.duration).max() ?? 0)
        if let target = lines.firstIndex(where: { $0.hasPrefix("#EXT-X-TARGETDURATION:") }),
           let value = Int(lines[target].dropFirst("#EXT-X-TARGETDURATION:".count)), Double(value) < longest.rounded() {
            lines[target] = "#EXT-X-TARGETDURATION:\(Int(longest.rounded()))"
        }
        return MediaPlaylist(text: lines.joined(separator: "\n") + "\n")
    }

    /// The finished playlist: VOD (no more segments will come) with its end marked.
    var vod: String {
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        lines = lines.map { $0.hasPrefix("#EXT-X-PLAYLIST-TYPE:") ? "#EXT-X-PLAYLIST-TYPE:VOD" : $0 }
        if !lines.contains("#EXT-X-ENDLIST") { lines.append("#EXT-X-ENDLIST") }
        return lines.joined(separator: "\n") + "\n"
    }

    static func attribute(_ name: String, in line: String) -> String? {
        guard let range = line.range(of: name + "=") else { return nil }
        let rest = line[range.upperBound...]
        if rest.hasPrefix("\"") { return String(rest.dropFirst().prefix { $0 != "\"" }) }
        return String(rest.prefix { $0 != "," })
    }
}

/// Measured bit rates of one rendition, for BANDWIDTH and AVERAGE-BANDWIDTH.
struct RenditionRate: Equatable {
    /// The largest bit rate of any one segment (bits a second).
    var peak: Int
    var average: Int

    /// From the segments' durations and sizes in bytes.
    init(segments: [(duration: Double, bytes: Int)]) {
        let total = segments.reduce(0.0) { $0 + $1.duration }
        let bytes = segments.reduce(0) { $0 + $1.bytes }
        peak = Int(segments.map { $0.duration > 0 ? Double($0.bytes * 8) / $0.duration : 0 }.max()?.rounded(.up) ?? 0)
        average = total > 0 ? Int((Double(bytes * 8) / total).rounded(.up)) : 0
    }

    init(peak: Int, average: Int) {
        self.peak = peak
        self.average = average
    }
}

/// The master playlist Kiln writes over the muxers' media playlists.
struct MasterPlaylist {
    struct Variant {
        var uri: String
        var width: Int
        var height: Int
        var codec: String
        var rate: RenditionRate
    }

    struct AudioRendition {
        var uri: String
        var codec: String
        var rate: RenditionRate
    }

    var variants: [Variant]
    var audio: AudioRendition?
    var frameRate: Double
    var fragmentedMP4: Bool

    /// RFC 8216 §4.3.4.2: BANDWIDTH is the peak of everything played together,
    /// so a variant's figures include the audio rendition's.
    var text: String {
        var lines = ["#EXTM3U", "#EXT-X-VERSION:\(fragmentedMP4 ? 7 : 6)", "#EXT-X-INDEPENDENT-SEGMENTS"]
        if let audio {
            lines.append("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"Audio\",DEFAULT=YES,AUTOSELECT=YES,CHANNELS=\"2\",URI=\"\(audio.uri)\"")
        }
        for variant in variants {
            var attributes = [
                "BANDWIDTH=\(variant.rate.peak + (audio?.rate.peak ?? 0))",
                "AVERAGE-BANDWIDTH=\(variant.rate.average + (audio?.rate.average ?? 0))",
                "CODECS=\"\([variant.codec, audio?.codec].compactMap { $0 }.joined(separator: ","))\"",
                "RESOLUTION=\(variant.width)x\(variant.height)",
                "FRAME-RATE=\(String(format: "%.3f", frameRate))",
            ]
            if audio != nil { attributes.append("AUDIO=\"audio\"") }
            lines.append("#EXT-X-STREAM-INF:" + attributes.joined(separator: ","))
            lines.append(variant.uri)
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
