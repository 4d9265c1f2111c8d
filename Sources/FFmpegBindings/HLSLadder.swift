import CFFmpeg
import CFFmpegShims
import Foundation

/// What an HLS ladder writes: video renditions (largest first) and an optional
/// audio rendition, each a media playlist with its segments in a directory of
/// its own under `directory`.
public struct HLSSettings: Sendable {
    public enum SegmentType: String, Sendable { case mpegts, fmp4 }

    public struct Rung: Sendable, Equatable {
        /// Directory name of the rendition, e.g. `720p`.
        public var name: String
        public var width: Int
        public var height: Int
        public var crf: Int
        public var bitRate: Int?
        public var maxRate: Int?
        public var bufferSize: Int?

        public init(name: String, width: Int, height: Int, crf: Int, bitRate: Int? = nil, maxRate: Int? = nil, bufferSize: Int? = nil) {
            self.name = name
            self.width = width
            self.height = height
            self.crf = crf
            self.bitRate = bitRate
            self.maxRate = maxRate
            self.bufferSize = bufferSize
        }
    }

    public var directory: String
    public var rungs: [Rung]
    public var segmentSeconds: Double
    public var segmentType: SegmentType
    public var preset: String?
    /// Bits a second of the AAC audio rendition; nil leaves the sound out.
    public var audioBitRate: Int?

    public static let audioName = "audio"
    public static let playlistName = "index.m3u8"

    public init(directory: String, rungs: [Rung], segmentSeconds: Double = 6, segmentType: SegmentType = .mpegts, preset: String? = "veryfast",
                audioBitRate: Int? = 128_000) {
        self.directory = directory
        self.rungs = rungs
        self.segmentSeconds = segmentSeconds
        self.segmentType = segmentType
        self.preset = preset
        self.audioBitRate = audioBitRate
    }

    var segmentExtension: String { segmentType == .fmp4 ? "m4s" : "ts" }

    /// Rendition directory names: the rungs, then the audio.
    var renditionNames: [String] { rungs.map(\.name) + [Self.audioName] }
}

/// What the ladder learned while writing: for the master playlist.
public struct HLSLadderFacts: Sendable, Equatable {
    /// RFC 6381 codec string per video rung, in rung order.
    public var videoCodecs: [String]
    /// The audio rendition's codec string; nil when there is no audio rendition.
    public var audioCodec: String?
    public var frameRate: Double
    /// How long the pictures last, from the source's timestamps (known once the ladder is done).
    public var videoSeconds: Double = 0
}

public enum HLSLadder {
    /// Decodes `input` once and writes every rendition of `settings`.
    /// `segmentsFinished` is called, on this thread, whenever a rendition
    /// finishes a segment, with the count of finished segments per rendition
    /// (video rungs, then audio when there is an audio rendition): the segment
    /// files and the playlists naming them are on disk by then. The facts are
    /// known from the start (the encoders' parameters), so the caller can write
    /// a master playlist before the end. On failure or
    /// stop everything written is removed.
    public static func run(input: String, settings: HLSSettings, maxSeconds: Double = .infinity, interrupt: InterruptFlag = InterruptFlag(),
                           progress: (Double) -> Void = { _ in }, segmentsFinished: ([Int], HLSLadderFacts) -> Void = { _, _ in }) throws(FFmpegError) -> HLSLadderFacts {
        let demuxer = try Demuxer(path: input, interrupt: interrupt)
        let total = demuxer.duration ?? 0
        for name in settings.renditionNames {
            do {
                try FileManager.default.createDirectory(atPath: settings.directory + "/" + name, withIntermediateDirectories: true)
            } catch {
                throw .failed(operation: "create \(name)", code: kiln_averror(EIO), message: "\(error)")
            }
        }
        let paths = settings.renditionNames.map { settings.directory + "/" + $0 + "/" }
        let playlists = paths.map { strdup($0 + HLSSettings.playlistName) }
        let segments = paths.map { strdup($0 + "seg_%05d." + settings.segmentExtension) }
        defer { (playlists + segments).forEach { free($0) } }
        let cRungs = settings.rungs.map {
            kiln_hls_rung(width: Int32($0.width), height: Int32($0.height), crf: Int32($0.bitRate == nil ? $0.crf : 0),
                          bit_rate: Int32($0.bitRate ?? 0), max_rate: Int32($0.maxRate ?? 0), buffer_size: Int32($0.bufferSize ?? 0))
        }
        var status: Int32 = 0
        let ladder: OpaquePointer? = cRungs.withUnsafeBufferPointer { rungs in
            playlists.map { UnsafePointer($0) }.withUnsafeBufferPointer { playlistPointers in
                segments.map { UnsafePointer($0) }.withUnsafeBufferPointer { segmentPointers in
                    "libx264".withCString { encoder in
                        settings.segmentType.rawValue.withCString { segmentType in
                            (settings.preset ?? "").withCString { preset in
                                "aac".withCString { audio in
                                    var c = kiln_hls_settings(
                                        video_encoder: encoder, preset: settings.preset == nil ? nil : preset, segment_type: segmentType,
                                        segment_seconds: settings.segmentSeconds, audio_encoder: settings.audioBitRate == nil ? nil : audio,
                                        audio_bit_rate: Int32(settings.audioBitRate ?? 0), rung_count: Int32(rungs.count), rungs: rungs.baseAddress,
                                        playlists: playlistPointers.baseAddress, segments: segmentPointers.baseAddress)
                                    return kiln_hls_open(demuxer.context, &c, &status)
                                }
                            }
                        }
                    }
                }
            }
        }
        guard let ladder else {
            try? FileManager.default.removeItem(atPath: settings.directory)
            throw FFmpegError.from(status, operation: "open HLS ladder")
        }
        let renditionCount = settings.rungs.count + (kiln_hls_has_audio(ladder) != 0 ? 1 : 0)
        let codec = { (rendition: Int) -> String in
            var buffer = [CChar](repeating: 0, count: 32)
            kiln_hls_codec_string(ladder, Int32(rendition), &buffer, Int32(buffer.count))
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        var facts = HLSLadderFacts(videoCodecs: settings.rungs.indices.map(codec),
                                   audioCodec: renditionCount > settings.rungs.count ? codec(settings.rungs.count) : nil,
                                   frameRate: kiln_hls_frame_rate(ladder))
        if renditionCount == settings.rungs.count {
            try? FileManager.default.removeItem(atPath: settings.directory + "/" + HLSSettings.audioName)
        }
        var finished = [Int](repeating: 0, count: renditionCount)
        let counts = { (0..<renditionCount).map { Int(kiln_hls_finished_segments(ladder, Int32($0))) } }
        try TranscodeDriver.drive(
            output: settings.directory, maxSeconds: maxSeconds, total: total, interrupt: interrupt, progress: progress, operation: "write HLS",
            step: {
                let status = kiln_hls_step(ladder)
                if status == 0 { facts.videoSeconds = kiln_hls_video_seconds(ladder) }
                if status >= 0 {
                    let now = counts()
                    if now != finished {
                        finished = now
                        segmentsFinished(now, facts)
                    }
                }
                return status
            },
            position: { kiln_hls_position(ladder) }, close: { kiln_hls_close(ladder) })
        return facts
    }
}
