import CFFmpeg
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
    /// Edits of the picture; the top rung's size is what they yield (`outputWidth` x `outputHeight`).
    public var edits: PictureEdits?
    /// Seconds of the source kept: from `start`, `duration` long (nil: to the end).
    public var start: Double = 0
    public var duration: Double?
    /// Playback speed (2: twice as fast, the sound at its pitch).
    public var speed: Double = 1

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

    /// A fast start: the first segments last this long (two of them, then one that
    /// makes up the difference, then `segmentSeconds` each), so a player can begin
    /// once 2 s are encoded rather than a whole segment. Only for segments of 4 s
    /// or more; shorter ones start fast enough as they are.
    ///
    /// The schedule is the hls muxer's own with `hls_init_time` and a one-entry
    /// window (the only way it honours an initial length); the video rungs force
    /// their IDRs at the same moments, so audio and video cut together.
    public var startSeconds: Double? { segmentSeconds >= 4 ? 2 : nil }

    /// Where segment `index` (from 0) ends, in seconds from the first picture.
    func segmentEnd(_ index: Int) -> Double {
        guard let start = startSeconds else { return Double(index + 1) * segmentSeconds }
        return index < 2 ? Double(index + 1) * start : start + Double(index - 1) * segmentSeconds
    }

    /// The media playlists' EXT-X-TARGETDURATION, fixed from the first version a
    /// player reads (RFC 8216 §6.2.1: it must not change).
    public var targetDuration: Int { max(1, Int(segmentSeconds.rounded(.up))) }

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
    /// The finished segments of each rendition (video rungs, then audio), known once the ladder is done.
    public var segmentLists: [HLSSegmentList] = []
}

public enum HLSLadder {
    /// Decodes `input` once and writes every rendition's segments under `settings`.
    /// `segmentsFinished` is called, on this thread, whenever a rendition
    /// finishes a segment, with the finished segments of every rendition
    /// (video rungs, then audio when there is an audio rendition), each on disk
    /// by then. The media playlists are the caller's to write. The facts are
    /// known from the start (the encoders' parameters), so the caller can write
    /// a master playlist before the end. On failure or stop everything written is removed.
    public static func run(input: String, settings: HLSSettings, maxSeconds: Double = .infinity, interrupt: InterruptFlag = InterruptFlag(),
                           progress: (Double) -> Void = { _ in }, segmentsFinished: ([HLSSegmentList], HLSLadderFacts) -> Void = { _, _ in }) throws(FFmpegError) -> HLSLadderFacts {
        try withoutActuallyEscaping(segmentsFinished) { (segmentsFinished) throws(FFmpegError) -> HLSLadderFacts in
            // The pass lives only inside this closure, so the callback does not escape.
            let pass = try SourcePass(path: input, interrupt: interrupt)
            var facts: HLSLadderFacts?
            try pass.addLadder(settings, segmentsFinished: segmentsFinished, done: { facts = $0 })
            try pass.run(maxSeconds: maxSeconds, progress: progress)
            guard let facts else { throw .invalidData(message: "the ladder ended without its facts") }
            return facts
        }
    }

    /// The consumers of one ladder on a pass: the video rungs and the shared audio rendition.
    final class Ladder {
        let video: LadderEncoding
        let audio: AudioEncoding?
        /// Rendition muxers: the rungs, then the audio.
        let muxers: [Muxer]
        let facts: HLSLadderFacts
        let settings: HLSSettings

        init(_ settings: HLSSettings, pass: MediaPass, decoder: Decoder, source: UnsafeMutablePointer<AVStream>) throws(FFmpegError) {
            for name in settings.renditionNames {
                do {
                    try FileManager.default.createDirectory(atPath: settings.directory + "/" + name, withIntermediateDirectories: true)
                } catch {
                    throw .failed(operation: "create \(name)", code: kiln_averror(EIO), message: "\(error)")
                }
            }
            self.settings = settings
            var rate = av_guess_frame_rate(pass.demuxer.context, source, nil)
            if rate.num <= 0 || rate.den <= 0 { rate = AVRational(num: 25, den: 1) }
            // Faster playback shows the same frames sooner: the rate and the time base scale together.
            let sped = av_d2q(settings.speed, 1 << 16)
            if settings.speed != 1 { rate = av_mul_q(rate, sped) }
            let playingBase = settings.speed == 1 ? decoder.timeBase : av_div_q(decoder.timeBase, sped)
            let windowed = settings.start > 0 || settings.duration != nil
            func muxer(_ rendition: String) throws(FFmpegError) -> Muxer {
                try Muxer(hlsPlaylist: settings.directory + "/" + rendition + "/" + Self.windowName)
            }
            // Keyframes come only where forced (every segment boundary, the same frame in every
            // rung); the encoder's own interval is set beyond a segment.
            let framesPerSegment = Int((av_q2d(rate) * settings.segmentSeconds).rounded())
            var rungs: [(Encoder, Muxer)] = []
            // Each rung encodes on a thread of its own (EncoderThread). The top rung costs the
            // most and the pass feeds every rung in step, so it alone also gets frame threads:
            // when the others wait for it, it can use every core.
            let cores = ProcessInfo.processInfo.activeProcessorCount
            for (index, rung) in settings.rungs.enumerated() {
                let threads = index == 0 ? cores : max(1, cores / settings.rungs.count)
                let output = try muxer(rung.name)
                var options: [(String, String)] = []
                if let preset = settings.preset { options.append(("preset", preset)) }
                if rung.bitRate == nil { options.append(("crf", "\(rung.crf)")) }
                options += [("forced-idr", "1"), ("x264-params", "scenecut=0:open-gop=0")]
                let encoder = try Encoder(video: .init(encoder: "libx264", width: rung.width, height: rung.height, timeBase: playingBase, frameRate: rate,
                                                       gopSize: 2 * (framesPerSegment > 0 ? framesPerSegment : 50) + 1, bitRate: rung.bitRate,
                                                       maxRate: rung.maxRate, bufferSize: rung.bufferSize, options: options, threads: threads),
                                          globalHeader: output.wantsGlobalHeader)
                rungs.append((encoder, output))
            }
            video = try LadderEncoding(rungs: rungs, decoder: decoder, stream: source, frameRate: rate, segmentEnd: settings.segmentEnd,
                                       interrupt: pass.demuxer.interrupt, edits: settings.edits,
                                       window: windowed ? (settings.start, settings.duration) : nil, playingBase: playingBase)
            pass.addVideo(video)
            var muxers = rungs.map(\.1)
            if let bitRate = settings.audioBitRate, let sound = try pass.audioDecoder() {
                let output = try muxer(HLSSettings.audioName)
                // The sound ends with the picture, so no rendition has segments the others lack.
                let seconds = source.pointee.duration != kiln_av_nopts_value() && source.pointee.duration > 0
                    ? Double(source.pointee.duration) * av_q2d(source.pointee.time_base) - settings.start : nil
                let kept = [seconds, settings.duration].compactMap { $0 }.min()
                let encoding = try AudioEncoding(decoder: sound, muxer: output, encoder: "aac", bitRate: bitRate, sampleRate: nil, channels: 2,
                                                 window: (settings.start, kept), tempo: settings.speed)
                pass.addAudio(encoding)
                audio = encoding
                muxers.append(output)
            } else {
                audio = nil
                try? FileManager.default.removeItem(atPath: settings.directory + "/" + HLSSettings.audioName)
            }
            self.muxers = muxers
            for (index, output) in muxers.enumerated() {
                try output.writeHeader(options: Self.headerOptions(settings, rendition: settings.renditionNames[min(index, settings.rungs.count)]))
            }
            let audioMuxer = audio == nil ? nil : muxers.last
            pass.atEnd { () throws(FFmpegError) in try audioMuxer?.finish() }
            facts = HLSLadderFacts(videoCodecs: rungs.map(\.0.codecString), audioCodec: audio?.encoder.codecString, frameRate: av_q2d(rate))
        }

        /// The muxer's own playlist, beside the caller's: a window of its last segment.
        static let windowName = "muxer-window.m3u8"

        static func headerOptions(_ settings: HLSSettings, rendition: String) -> [(String, String)] {
            var options = [
                ("hls_time", String(format: "%.6f", settings.segmentSeconds)),
                // A window of one: the muxer honours hls_init_time only with a window, and
                // Muxer gathers every segment from the versions it writes.
                ("hls_list_size", "1"),
                ("hls_segment_type", settings.segmentType.rawValue),
                ("hls_segment_filename", settings.directory + "/" + rendition + "/seg_%05d." + settings.segmentExtension),
                ("hls_flags", "independent_segments"),
            ]
            if let start = settings.startSeconds { options.append(("hls_init_time", String(format: "%.6f", start))) }
            if settings.segmentType == .fmp4 { options.append(("hls_fmp4_init_filename", "init.mp4")) }
            return options
        }
    }
}
