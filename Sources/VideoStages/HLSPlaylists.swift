import FFmpegBindings
import Foundation

/// One rendition's media playlist, written by Kiln from the segments the
/// ladder finished: EVENT while the job runs (it only grows), VOD at the end.
struct MediaPlaylist {
    var segments: [HLSSegment]
    /// The fMP4 init section's URI (`EXT-X-MAP`).
    var map: String?
    /// The target duration every version says (it must not change), unless a segment is longer.
    var targetDuration: Int
    var fragmentedMP4: Bool

    init(_ list: HLSSegmentList, targetDuration: Int, fragmentedMP4: Bool) {
        segments = list.segments
        map = list.map
        self.targetDuration = targetDuration
        self.fragmentedMP4 = fragmentedMP4
    }

    var seconds: Double { segments.reduce(0) { $0 + $1.duration } }

    /// The playlist with its last segment lasting what the pictures' own timestamps say.
    ///
    /// The hls muxer closes the last segment at the trailer and counts its length from its
    /// packets at the stream's nominal frame rate: with a variable frame rate (15 frames at
    /// 15 fps, counted at 30) it said 0.5 s for a segment of 1 s. The others are cut between
    /// two timestamps and are right.
    func endingAt(videoSeconds seconds: Double) -> MediaPlaylist {
        guard let last = segments.last, seconds > 0 else { return self }
        let length = seconds - segments.dropLast().reduce(0) { $0 + $1.duration }
        guard length > 0, abs(length - last.duration) > 0.001 else { return self }
        var playlist = self
        playlist.segments[playlist.segments.count - 1].duration = length
        return playlist
    }

    /// While the job runs: segments will only be added.
    var event: String { text(type: "EVENT", ended: false) }

    /// The finished playlist: no more segments will come.
    var vod: String { text(type: "VOD", ended: true) }

    private func text(type: String, ended: Bool) -> String {
        // RFC 8216 §4.3.3.1: every EXTINF, rounded, is at most the target duration.
        let longest = segments.map { Int($0.duration.rounded()) }.max() ?? 0
        var lines = ["#EXTM3U", "#EXT-X-VERSION:\(fragmentedMP4 ? 7 : 6)", "#EXT-X-TARGETDURATION:\(max(targetDuration, longest))",
                     "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:\(type)", "#EXT-X-INDEPENDENT-SEGMENTS"]
        if let map { lines.append("#EXT-X-MAP:URI=\"\(map)\"") }
        for segment in segments {
            lines.append(String(format: "#EXTINF:%.6f,", segment.duration))
            lines.append(segment.uri)
        }
        if ended { lines.append("#EXT-X-ENDLIST") }
        return lines.joined(separator: "\n") + "\n"
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
