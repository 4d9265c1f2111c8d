import FFmpegBindings
import Foundation
import StageSupport
import PipelineEngine

/// `hls`: an adaptive-bit-rate ladder for HLS players. The source is decoded
/// once; every rung (never taller than the source) is scaled from the rung
/// above it and encoded with H.264, keyframes forced at the same frames in
/// every rung so segment cuts line up; one AAC audio rendition is shared by
/// every rung. Kiln writes the master playlist from the measured segments.
/// Video edits before it (`videoCrop`, `trim`, `speed`, ...) apply to the top
/// rung's picture and to the sound, and the rungs are sized for what they leave.
public struct HLS: Stage {
    public static let descriptor = StageDescriptor(
        name: "hls",
        summary: "An HLS ladder: H.264 renditions by height, MPEG-TS or fMP4 segments, a shared AAC audio rendition and a master playlist",
        accepts: [.source(.video), .video],
        produces: .product,
        parameters: [
            ParameterSpec("renditions", .array(of: .object([
                ParameterSpec("height", .integer(min: 90, max: 4320), required: true, summary: "Picture height; never above the source's"),
                ParameterSpec("bitRate", .integer(min: 100, max: 50_000), summary: "Target kilobits a second (capped at this peak) instead of crf"),
                ParameterSpec("crf", .integer(min: 1, max: 51), summary: "Constant quality (default 23), with a peak rate cap by height"),
            ]), maxCount: HLS.maxRungs), default: .array([1080, 720, 480].map { .object(["height": .number(Double($0))]) }),
            summary: "The ladder, tallest first; rungs taller than the source are dropped (the source's own height is used if none is left)"),
            ParameterSpec("segmentSeconds", .number(min: 1, max: 30), default: 6, summary: "Segment length; every segment starts with a keyframe"),
            ParameterSpec("segmentType", .choice(["ts", "fmp4"]), default: "ts", summary: "MPEG-TS or fragmented MP4 segments"),
            ParameterSpec("audio", .boolean, default: true, summary: "An AAC audio rendition, when the source has sound"),
            ParameterSpec("audioBitRate", .integer(min: 32, max: 320), default: 128, summary: "Audio kilobits a second"),
            ParameterSpec("preset", .choice(Transcode.presets), default: "veryfast", summary: "x264 speed preset"),
        ]
    )

    static let maxRungs = 6
    static let masterName = "master.m3u8"

    struct RungRequest: Equatable {
        var height: Int
        var bitRate: Int?
        var crf: Int?
    }

    let requests: [RungRequest]
    let segmentSeconds: Double
    let segmentType: HLSSettings.SegmentType
    let audio: Bool
    let audioBitRate: Int
    let preset: String

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        let items = parameters["renditions"]?.arrayValue ?? []
        requests = items.map {
            RungRequest(height: $0.objectValue?["height"]?.intValue ?? 0, bitRate: $0.objectValue?["bitRate"]?.intValue,
                        crf: $0.objectValue?["crf"]?.intValue)
        }
        guard !requests.isEmpty else { throw ValidationError(pointer: pointer.appending("renditions"), message: "Expected at least one rendition") }
        for (index, request) in requests.enumerated() where requests[..<index].contains(where: { $0.height == request.height }) {
            throw ValidationError(pointer: pointer.appending("renditions").appending(index).appending("height"),
                                  message: "Two renditions of height \(request.height)")
        }
        segmentSeconds = parameters.double("segmentSeconds") ?? 6
        segmentType = parameters.string("segmentType") == "fmp4" ? .fmp4 : .mpegts
        audio = parameters.bool("audio") ?? true
        audioBitRate = (parameters.int("audioBitRate") ?? 128) * 1000
        preset = parameters.string("preset") ?? "veryfast"
    }

    /// Peak kilobits a second for a crf rung of this height: a cap so that a
    /// rung's BANDWIDTH stays in the range players expect of its resolution.
    static func peakKilobits(height: Int) -> Int {
        switch height {
        case ...240: 500
        case ...360: 1000
        case ...480: 1800
        case ...720: 3500
        case ...1080: 6500
        case ...1440: 12_000
        default: 20_000
        }
    }

    /// The rungs for a picture shown `width` x `height`: tallest first, none
    /// taller than the source, sides even, the aspect ratio kept.
    func rungs(shownWidth width: Int, shownHeight height: Int) -> [HLSSettings.Rung] {
        var chosen = requests.filter { $0.height <= height }.sorted { $0.height > $1.height }
        if chosen.isEmpty { chosen = [RungRequest(height: height, bitRate: requests.first?.bitRate, crf: requests.first?.crf)] }
        let even = { (value: Double) in max(2, Int((value / 2).rounded()) * 2) }
        return chosen.map { request in
            let rungHeight = even(Double(request.height))
            let rungWidth = even(Double(width) * Double(rungHeight) / Double(height))
            let peak = (request.bitRate ?? Self.peakKilobits(height: rungHeight)) * 1000
            return HLSSettings.Rung(name: "\(rungHeight)p", width: rungWidth, height: rungHeight, crf: request.crf ?? 23,
                                    bitRate: request.bitRate.map { $0 * 1000 }, maxRate: peak, bufferSize: 2 * peak)
        }
    }

    /// The ladder for `path`, written into `context`'s directory.
    func settings(for path: String, edits: [any VideoEdit] = [], context: StageContext, interrupt: InterruptFlag) throws -> HLSSettings {
        let probe = try MediaProbe(path: path, interrupt: interrupt)
        guard let video = probe.video, let storedWidth = video.width, let storedHeight = video.height else {
            throw StageError.invalidInput("hls: the input has no video stream")
        }
        let stored = PictureSize(width: storedWidth, height: storedHeight), rotation = video.rotation ?? 0
        // The rungs are sized for the picture as shown: turned upright, and as the edits leave it.
        let shown = try EditPlan.editedSize(edits, stored: stored, rotation: rotation)
        var settings = HLSSettings(
            directory: context.scratchDirectory, rungs: rungs(shownWidth: shown.width, shownHeight: shown.height),
            segmentSeconds: segmentSeconds, segmentType: segmentType, preset: preset,
            audioBitRate: audio && probe.audio != nil ? audioBitRate : nil)
        guard !edits.isEmpty, let top = settings.rungs.first else { return settings }
        let plan = try EditPlan(edits: edits, stored: stored, rotation: rotation, output: PictureSize(width: top.width, height: top.height),
                                context: context)
        try plan.checkWithin(probe)
        settings.edits = plan.pictures
        settings.start = plan.timing.start
        settings.duration = plan.timing.duration
        settings.speed = plan.timing.speed
        return settings
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        if let shared = try sharedValue(input, context: context) { return shared }
        let video = try input.editedVideo("hls")
        let file = video.source
        return try withFFmpeg("hls", stop: context.stop) { interrupt in
            let settings = try settings(for: file.path, edits: video.edits, context: context, interrupt: interrupt)
            let writer = HLSOutputWriter(settings: settings, outputName: context.outputName, publisher: context.publisher, logger: context.logger)
            let facts = try HLSLadder.run(input: file.path, settings: settings, maxSeconds: context.limits.maxDurationSeconds, interrupt: interrupt, progress: context.reportProgress,
                                          segmentsFinished: { writer.segmentsFinished($0, $1) })
            return .product(try writer.finish(facts))
        }
    }
}

extension HLS: PassParticipant {
    var readsWholeStream: Bool { true }

    func join(_ pass: SourcePass, source: SourceFile, context: StageContext) throws(StageError) -> () throws(StageError) -> StageValue {
        let facts = Box<HLSLadderFacts?>(nil)
        let writer = try withFFmpeg("hls", stop: context.stop) { interrupt in
            let settings = try settings(for: source.path, context: context, interrupt: interrupt)
            let writer = HLSOutputWriter(settings: settings, outputName: context.outputName, publisher: context.publisher, logger: context.logger)
            try pass.addLadder(settings, segmentsFinished: { writer.segmentsFinished($0, $1) }, done: { facts.value = $0 })
            return writer
        }
        return { () throws(StageError) in
            guard let done = facts.value else { throw StageError(code: "internal", message: "hls: the shared pass ended without the ladder") }
            return try withFFmpeg("hls", stop: context.stop) { _ in .product(try writer.finish(done)) }
        }
    }
}
