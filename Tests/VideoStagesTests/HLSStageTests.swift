import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine
import Testing

/// The `hls` stage run in-process, its playlists parsed here and every segment
/// checked with ffprobe; the ladder played with ffmpeg's own HLS demuxer.
@Suite(.ownThreads) struct HLSStageTests {
    /// One `#EXT-X-STREAM-INF` of a master playlist.
    struct Variant {
        var attributes: [String: String]
        var uri: String
    }

    /// Attribute lists per RFC 8216 §4.2: quoted strings may hold commas.
    static func attributes(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        var rest = text
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = String(rest[..<equals])
            rest = rest[rest.index(after: equals)...]
            var value: Substring
            if rest.first == "\"" {
                let body = rest.dropFirst()
                let close = body.firstIndex(of: "\"") ?? body.endIndex
                value = body[..<close]
                rest = body[close...].dropFirst()
            } else {
                let comma = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<comma]
                rest = rest[comma...]
            }
            if rest.first == "," { rest = rest.dropFirst() }
            result[key] = String(value)
        }
        return result
    }

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
    }

    static func variants(master path: String) throws -> (variants: [Variant], audio: [String: String]?) {
        let lines = try lines(path)
        #expect(lines.first == "#EXTM3U")
        var variants: [Variant] = []
        for (index, line) in lines.enumerated() where line.hasPrefix("#EXT-X-STREAM-INF:") {
            variants.append(Variant(attributes: attributes(line.dropFirst("#EXT-X-STREAM-INF:".count)), uri: lines[index + 1]))
        }
        let audio = lines.first { $0.hasPrefix("#EXT-X-MEDIA:") }.map { attributes($0.dropFirst("#EXT-X-MEDIA:".count)) }
        return (variants, audio)
    }

    /// A media playlist: target duration, segment durations and URIs, init section, type, end.
    struct Media {
        var target = 0
        var segments: [(uri: String, duration: Double)] = []
        var map: String?
        var type: String?
        var ended = false

        init(_ path: String) throws {
            var pending: Double?
            for line in try HLSStageTests.lines(path) {
                if line.hasPrefix("#EXT-X-TARGETDURATION:") { target = Int(line.dropFirst(22)) ?? 0 }
                else if line.hasPrefix("#EXTINF:") { pending = Double(line.dropFirst(8).prefix { $0 != "," }) }
                else if line.hasPrefix("#EXT-X-MAP:") { map = HLSStageTests.attributes(line.dropFirst(11))["URI"] }
                else if line.hasPrefix("#EXT-X-PLAYLIST-TYPE:") { type = String(line.dropFirst(21)) }
                else if line == "#EXT-X-ENDLIST" { ended = true }
                else if !line.hasPrefix("#"), !line.isEmpty, let duration = pending {
                    segments.append((line, duration))
                    pending = nil
                }
            }
        }
    }

    /// The first video packet of a segment: its time and whether it is a keyframe.
    static func firstVideoPacket(_ segment: String, init map: String?) throws -> (time: Double, keyframe: Bool) {
        var path = segment
        if let map {
            // An fMP4 segment is readable only after its init section.
            path = NSTemporaryDirectory() + "kiln-seg-" + UUID().uuidString + ".mp4"
            try (try Data(contentsOf: URL(fileURLWithPath: map)) + Data(contentsOf: URL(fileURLWithPath: segment))).write(to: URL(fileURLWithPath: path))
        }
        defer { if map != nil { try? FileManager.default.removeItem(atPath: path) } }
        let output = String(decoding: try runTool("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time,flags",
                                                              "-read_intervals", "%+#1", "-of", "csv=p=0", path]), as: UTF8.self)
        let fields = output.split(separator: "\n").first?.split(separator: ",") ?? []
        guard fields.count >= 2, let time = Double(fields[0]) else { throw TestFailure("no video packet in \(segment): \(output)") }
        return (time, fields[1].contains("K"))
    }

    func ladder(_ input: String, _ hls: JSONValue) async throws -> (directory: String, outputs: LocalRun.Output) {
        let outputs = try await runLocally(input, ["outputs": ["stream": [hls]]])
        let output = try #require(outputs["stream"])
        let master = try #require(output.files.first { $0.file.name == "master.m3u8" })
        return ((master.path as NSString).deletingLastPathComponent, output)
    }

    @Test(arguments: ["ts", "fmp4"])
    func aLadderWithAlignedKeyframesAndAMeasuredMaster(_ segmentType: String) async throws {
        let (directory, output) = try await ladder("clip.mp4", [
            "op": "hls", "renditions": [["height": 240], ["height": 160], ["height": 120]], "segmentSeconds": 1,
            "segmentType": .string(segmentType),
        ])
        #expect(output.files.last?.file.name == "master.m3u8", "the master is published last")
        let (variants, audio) = try Self.variants(master: directory + "/master.m3u8")
        #expect(variants.map { $0.attributes["RESOLUTION"] } == ["320x240", "214x160", "160x120"])
        let audioGroup = try #require(audio)
        #expect(audioGroup["TYPE"] == "AUDIO" && audioGroup["URI"] == "audio/index.m3u8")
        var cuts: [[Double]] = []
        for variant in variants {
            let bandwidth = try #require(Int(variant.attributes["BANDWIDTH"] ?? ""))
            let average = try #require(Int(variant.attributes["AVERAGE-BANDWIDTH"] ?? ""))
            #expect(average > 0 && bandwidth >= average, "\(variant.attributes)")
            #expect(variant.attributes["CODECS"]?.hasPrefix("avc1.") == true && variant.attributes["CODECS"]?.hasSuffix(",mp4a.40.2") == true)
            #expect(variant.attributes["FRAME-RATE"] == "25.000" && variant.attributes["AUDIO"] == audioGroup["GROUP-ID"])
            let playlistPath = directory + "/" + variant.uri
            let media = try Media(playlistPath)
            let base = (playlistPath as NSString).deletingLastPathComponent
            #expect(media.type == "VOD" && media.ended)
            #expect(media.segments.count == 3, "\(media.segments)")
            #expect(media.segments.allSatisfy { Int($0.duration.rounded()) <= media.target }, "TARGETDURATION \(media.target)")
            #expect(abs(media.segments.reduce(0) { $0 + $1.duration } - 3) < 0.041)
            #expect((media.map != nil) == (segmentType == "fmp4"))
            var starts: [Double] = []
            for segment in media.segments {
                let first = try Self.firstVideoPacket(base + "/" + segment.uri, init: media.map.map { base + "/" + $0 })
                #expect(first.keyframe, "\(variant.uri) \(segment.uri) starts with a keyframe")
                starts.append(first.time)
            }
            cuts.append(starts)
        }
        #expect(Set(cuts.map { $0.map { ($0 * 1000).rounded() } }).count == 1, "cut times match across renditions: \(cuts)")
        let audioMedia = try Media(directory + "/audio/index.m3u8")
        #expect(audioMedia.ended && !audioMedia.segments.isEmpty)

        // ffmpeg as the player: every frame of the top variant and the sound decode.
        let played = String(decoding: try runTool("ffmpeg", ["-v", "error", "-i", directory + "/master.m3u8", "-map", "0:v:0", "-map", "0:a:0",
                                                              "-f", "null", "-", "-stats"], errorOutput: true), as: UTF8.self)
        #expect(played.contains("frame=   75") || played.contains("frame=75"), "\(played)")
    }

    /// Segments of 6 s start fast: 2 s, 2 s and 4 s, then 6 s each, cut at the
    /// same moments in every rendition (sound included), under one target duration.
    @Test func aLadderOfLongSegmentsStartsWithShortOnes() async throws {
        let source = NSTemporaryDirectory() + "kiln-16s-\(UUID().uuidString).mp4"
        defer { try? FileManager.default.removeItem(atPath: source) }
        try runTool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25:duration=16", "-f", "lavfi",
                               "-i", "sine=frequency=440:duration=16", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", source])
        let (directory, _) = try await ladder(source, ["op": "hls", "renditions": [["height": 180], ["height": 90]], "segmentSeconds": 6,
                                                       "preset": "ultrafast"])
        let expected = [2.0, 2, 4, 6, 2]
        for rendition in ["180p", "90p", "audio"] {
            let media = try Media(directory + "/" + rendition + "/index.m3u8")
            #expect(media.target == 6 && media.type == "VOD" && media.ended, "\(rendition)")
            let durations = media.segments.map(\.duration)
            // Sound is cut at its own frames (1024 samples, 23 ms at 44.1 kHz); pictures at theirs.
            #expect(durations.count == expected.count && zip(durations, expected).allSatisfy { abs($0 - $1) < 0.05 }, "\(rendition): \(durations)")
            guard rendition != "audio" else { continue }
            let starts = try media.segments.map { try Self.firstVideoPacket(directory + "/" + rendition + "/" + $0.uri, init: nil) }
            #expect(starts.allSatisfy { $0.keyframe }, "\(rendition): every segment starts with a keyframe")
            let offsets = starts.map { (($0.time - starts[0].time) * 100).rounded() / 100 }
            #expect(offsets == [0, 2, 4, 8, 14], "\(rendition): \(offsets)")
        }
    }

    @Test func rungsNeverExceedTheSourceAndAQuietSourceHasNoAudioGroup() async throws {
        let silent = NSTemporaryDirectory() + "kiln-silent-\(UUID().uuidString).mp4"
        defer { try? FileManager.default.removeItem(atPath: silent) }
        try runTool("ffmpeg", ["-v", "error", "-i", Fixture.path("clip.mp4"), "-an", "-c", "copy", silent])
        let (directory, _) = try await ladder(silent, ["op": "hls", "renditions": [["height": 1080], ["height": 720]]])
        let (variants, audio) = try Self.variants(master: directory + "/master.m3u8")
        #expect(variants.map { $0.attributes["RESOLUTION"] } == ["320x240"], "one rung at the source's height")
        #expect(audio == nil && variants.allSatisfy { $0.attributes["AUDIO"] == nil && $0.attributes["CODECS"]?.contains("mp4a") == false })
        #expect(!FileManager.default.fileExists(atPath: directory + "/audio"))
    }

    @Test func aRotatedSourceIsTurnedUpright() async throws {
        let rotated = try Fixture.rotatedClip()
        let (directory, _) = try await ladder(rotated, ["op": "hls", "renditions": [["height": 320], ["height": 160]], "segmentSeconds": 2])
        let (variants, _) = try Self.variants(master: directory + "/master.m3u8")
        #expect(variants.map { $0.attributes["RESOLUTION"] } == ["240x320", "120x160"], "portrait as shown")
        let probed = String(decoding: try runTool("ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "stream=width,height",
                                                               "-of", "csv=p=0", directory + "/320p/seg_00000.ts"]), as: UTF8.self)
        #expect(probed.split(separator: "\n").first == "240,320", "\(probed)")
    }

    @Test func duplicateHeightsAreRefusedAtTheirPointer() async throws {
        do {
            _ = try await runLocally("clip.mp4", ["operations": [["op": "hls", "renditions": [["height": 240], ["height": 240]]]]])
            Issue.record("accepted two rungs of one height")
        } catch let LocalRun.Failure.invalid(error) {
            #expect(error.pointer.description == "/operations/0/renditions/1/height", "\(error)")
        }
    }
}
