import FFmpegBindings
import Foundation
import StageSupport
import PipelineEngine

/// `transcode`: video to MP4 (H.264, HEVC or AV1 with AAC, faststart) or WebM
/// (VP9 or AV1 with Opus), scaled to fit a box (keeping the aspect ratio, even
/// sides, never enlarged), by CRF or bit rate, trimmed or muted. Rotation
/// stays metadata, as in the source, unless edits (`videoCrop`, `speed`, ...)
/// come first: they are applied here, as the video is decoded, and the
/// pixels are turned upright. Decoded and encoded in-process.
public struct Transcode: Stage {
    static let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]

    public static let descriptor = StageDescriptor(
        name: "transcode",
        summary: "Transcode video to mp4 (h264, hevc, av1 + aac) or webm (vp9, av1 + opus): size, crf or bit rate, preset, trim, mute",
        accepts: [.source(.video), .video],
        produces: .product,
        parameters: [
            ParameterSpec("format", .choice(["mp4", "webm"]), default: "mp4", summary: "Container"),
            ParameterSpec("codec", .choice(VideoSettings.Codec.allCases.map(\.rawValue)), summary: "Video codec; default h264 (mp4) or vp9 (webm)"),
            ParameterSpec("width", .integer(min: 16, max: 7680), summary: "Box width; the picture keeps its aspect ratio and is never enlarged"),
            ParameterSpec("height", .integer(min: 16, max: 4320), summary: "Box height"),
            ParameterSpec("crf", .integer(min: 0, max: 63), summary: "Constant quality; default 23 (h264), 28 (hevc), 32 (vp9), 35 (av1)"),
            ParameterSpec("bitRate", .integer(min: 50, max: 100_000), summary: "Target kilobits a second instead of crf"),
            ParameterSpec("maxRate", .integer(min: 50, max: 100_000), summary: "Peak kilobits a second (with bufferSize)"),
            ParameterSpec("bufferSize", .integer(min: 50, max: 200_000), summary: "Rate-control buffer, kilobits"),
            ParameterSpec("preset", .choice(presets), default: "veryfast", summary: "x264/x265 speed preset"),
            ParameterSpec("fps", .number(min: 1, max: 120), summary: "At most this many frames a second (frames are dropped, never invented); default the source's"),
            ParameterSpec("start", .number(min: 0, max: 86_400), default: 0, summary: "Seconds to skip"),
            ParameterSpec("duration", .number(min: 0.1, max: 86_400), summary: "Seconds to keep; default to the end"),
            ParameterSpec("mute", .boolean, default: false, summary: "Drop the sound"),
            ParameterSpec("audioBitRate", .integer(min: 16, max: 512), summary: "Kilobits a second; default 128 (aac) or 96 (opus)"),
        ]
    )

    let container: VideoSettings.Container
    let codec: VideoSettings.Codec
    let width: Int?
    let height: Int?
    let crf: Int
    let parameters: Parameters

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        container = parameters.string("format") == "webm" ? .webm : .mp4
        codec = parameters.string("codec").flatMap(VideoSettings.Codec.init(rawValue:)) ?? (container == .webm ? .vp9 : .h264)
        let allowed: [VideoSettings.Codec] = container == .webm ? [.vp9, .av1] : [.h264, .hevc, .av1]
        guard allowed.contains(codec) else {
            throw ValidationError(pointer: pointer.appending("codec"),
                                  message: "\(container.rawValue) carries \(allowed.map(\.rawValue).joined(separator: " or ")), not \(codec.rawValue)")
        }
        width = parameters.int("width")
        height = parameters.int("height")
        crf = parameters.int("crf") ?? [.h264: 23, .hevc: 28, .vp9: 32, .av1: 35][codec]!
        self.parameters = parameters
    }

    /// The stored size to encode: the box applies to the picture as shown
    /// (turned by its rotation), sides even, never larger than the source.
    static func size(sourceWidth: Int, sourceHeight: Int, rotation: Int, box: (Int?, Int?)) -> (width: Int, height: Int) {
        let turned = rotation % 180 != 0
        let shownWidth = turned ? sourceHeight : sourceWidth, shownHeight = turned ? sourceWidth : sourceHeight
        let geometry = ResizeGeometry(sourceWidth: shownWidth, sourceHeight: shownHeight, width: box.0, height: box.1, fit: .inside, enlarge: false)
        // The nearest even side to the exact scaled one (as ffmpeg's scale=-2 does, and as the
        // HLS stage sizes its rungs, so a fallback of a rung's height is that rung's size), never above the source.
        let even = { (exact: Double, source: Int) in max(2, min(source - source % 2, Int((exact / 2).rounded()) * 2)) }
        // Within the box too: the box is a bound, not a suggestion.
        let width = even(Double(shownWidth) * geometry.largestScale, min(shownWidth, box.0 ?? shownWidth))
        let height = even(Double(shownHeight) * geometry.largestScale, min(shownHeight, box.1 ?? shownHeight))
        return turned ? (height, width) : (width, height)
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        if let shared = try sharedValue(input, context: context) { return shared }
        let video = try input.editedVideo("transcode")
        let (settings, path) = try settings(for: video.source.path, edits: video.edits, context: context)
        let file = video.source
        try withFFmpeg("transcode", stop: context.stop) { interrupt in
            try VideoTranscode.run(input: file.path, output: path, settings: settings, maxSeconds: context.limits.maxDurationSeconds,
                                   interrupt: interrupt, progress: context.reportProgress)
        }
        return product(at: path)
    }

    /// What to write for `path`'s video, and where.
    func settings(for input: String, edits: [any VideoEdit] = [], context: StageContext) throws(StageError) -> (VideoSettings, String) {
        let path = context.scratchDirectory + "/" + "\(context.outputName).\(container.rawValue)"
        return try withFFmpeg("transcode", stop: context.stop) { interrupt in
            // The job's input already passed `SourceMedia.inspect` (format, duration, pixels).
            let probe = try MediaProbe(path: input, interrupt: interrupt)
            guard let video = probe.video, let sourceWidth = video.width, let sourceHeight = video.height else {
                throw StageError.invalidInput("transcode: the input has no video stream")
            }
            let size = Self.size(sourceWidth: sourceWidth, sourceHeight: sourceHeight, rotation: video.rotation ?? 0, box: (width, height))
            let kilobits = { (name: String) in parameters.int(name).map { $0 * 1000 } }
            var settings = VideoSettings(
                container: container, codec: codec, width: size.width, height: size.height, crf: kilobits("bitRate") == nil ? crf : 0,
                bitRate: kilobits("bitRate"), maxRate: kilobits("maxRate"), bufferSize: kilobits("bufferSize"),
                preset: parameters.string("preset") ?? "veryfast", fps: parameters.double("fps"), mute: parameters.bool("mute") ?? false,
                audioBitRate: kilobits("audioBitRate") ?? (container == .webm ? 96_000 : 128_000),
                start: parameters.double("start") ?? 0, duration: parameters.double("duration"))
            if !edits.isEmpty {
                // This step's own trim comes after the edits, in the seconds they play.
                let own = Trim(start: settings.start, duration: settings.duration)
                let stored = PictureSize(width: sourceWidth, height: sourceHeight), rotation = video.rotation ?? 0
                let edited = try EditPlan.editedSize(edits, stored: stored, rotation: rotation)
                let output = Self.size(sourceWidth: edited.width, sourceHeight: edited.height, rotation: 0, box: (width, height))
                let plan = try EditPlan(edits: edits + [own], stored: stored, rotation: rotation,
                                        output: PictureSize(width: output.width, height: output.height), context: context)
                try plan.checkWithin(probe)
                settings.edits = plan.pictures
                settings.width = plan.pictures.outputWidth
                settings.height = plan.pictures.outputHeight
                settings.start = plan.timing.start
                settings.duration = plan.timing.duration
                settings.speed = plan.timing.speed
            }
            return (settings, path)
        }
    }

    func product(at path: String) -> StageValue {
        let name = (path as NSString).lastPathComponent
        let written = try? MediaProbe(path: path)
        let size = fileSize(atPath: path) ?? 0
        return .product(OutputProduct(files: [ProducedFile(
            name: name, contentType: "video/\(container.rawValue)", size: size,
            width: written?.video?.width, height: written?.video?.height, duration: written?.duration)]))
    }
}

extension Transcode: PassParticipant {
    var readsWholeStream: Bool { true }

    func join(_ pass: SourcePass, source: SourceFile, context: StageContext) throws(StageError) -> () throws(StageError) -> StageValue {
        let (settings, path) = try settings(for: source.path, context: context)
        try withFFmpeg("transcode", stop: context.stop) { _ in try pass.addTranscode(settings, output: path) }
        return { product(at: path) }
    }
}
