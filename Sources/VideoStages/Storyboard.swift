import FFmpegBindings
import Foundation
import StageSupport
import PipelineEngine
import VipsBindings

/// `storyboard`: frames at even intervals tiled into one sprite image, and a
/// WebVTT file whose cues name each tile (`sprite.jpg#xywh=x,y,w,h`), which
/// players use for previews while scrubbing.
public struct Storyboard: Stage {
    public static let descriptor = StageDescriptor(
        name: "storyboard",
        summary: "A sprite sheet of evenly spaced frames and a WebVTT file pointing at each tile, for scrubbing previews",
        accepts: [.source(.video)],
        produces: .product,
        parameters: [
            ParameterSpec("count", .integer(min: 1, max: 400), default: 20, summary: "Frames, one per equal interval of the video"),
            ParameterSpec("columns", .integer(min: 1, max: 50), default: 5, summary: "Tiles per row of the sprite"),
            ParameterSpec("width", .integer(min: 16, max: 640), default: 160, summary: "Tile width in pixels; height follows the aspect ratio"),
            ParameterSpec("format", .choice(["jpeg", "webp"]), default: "jpeg", summary: "Sprite format"),
            ParameterSpec("quality", .integer(min: 1, max: 100), default: 75, summary: "Sprite quality"),
        ]
    )

    let count: Int
    let columns: Int
    let width: Int
    let format: String
    let quality: Int

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        count = parameters.int("count") ?? 20
        columns = parameters.int("columns") ?? 5
        width = parameters.int("width") ?? 160
        format = parameters.string("format") ?? "jpeg"
        quality = parameters.int("quality") ?? 75
    }

    /// The middle of each interval stands for it better than its first (often black) frame.
    func times(duration: Double) -> [Double] {
        let interval = duration / Double(count)
        return (0..<count).map { (Double($0) + 0.5) * interval }
    }

    func tile(_ frame: RGBFrame) throws(FFmpegError) -> VipsImage {
        do {
            let image = try VideoFrameImage.image(from: frame)
            let scale = Double(width) / Double(image.width)
            return try image.resized(xScale: scale, yScale: scale).materialized()
        } catch {
            throw .failed(operation: "tile", code: -1, message: "\(error)")
        }
    }

    static func knownDuration(_ duration: Double?) throws(StageError) -> Double {
        guard let duration, duration > 0 else { throw StageError.invalidInput("storyboard: the video's duration is unknown") }
        return duration
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        if let shared = try sharedValue(input, context: context) { return shared }
        guard case let .source(file) = input else { throw StageError(code: "internal", message: "storyboard needs the input file") }
        var tiles: [VipsImage] = []
        let duration = try withFFmpeg("storyboard", stop: context.stop) { interrupt in
            let duration = try Self.knownDuration(try MediaProbe(path: file.path, interrupt: interrupt).duration)
            try FrameGrabber.grab(path: file.path, at: times(duration: duration).map(FramePosition.seconds), maxPixels: context.limits.maxImagePixels,
                                  interrupt: interrupt) { frame throws(FFmpegError) in
                tiles.append(try tile(frame))
                context.reportProgress(Double(tiles.count) / Double(count) * 0.9)
            }
            return duration
        }
        return try sprite(tiles, duration: duration, context: context)
    }

    /// The sprite and its cues from the tiles, in time order.
    func sprite(_ tiles: [VipsImage], duration: Double, context: StageContext) throws(StageError) -> StageValue {
        let tileWidth = tiles[0].width, tileHeight = tiles[0].height
        let across = min(columns, count), rows = (count + across - 1) / across
        try OutputBounds.check(width: tileWidth * across, height: tileHeight * rows, limits: context.limits, operation: "storyboard")
        let spriteName = "\(context.outputName).\(format == "webp" ? "webp" : "jpg")"
        let vttName = "\(context.outputName).vtt"
        do {
            let sprite = try VipsImage.tiled(tiles, across: across)
            let encoding: ImageEncoding = format == "webp" ? .webp(quality: quality, lossless: false, strip: true) : .jpeg(quality: quality, strip: true)
            try sprite.save(to: context.scratchDirectory + "/" + spriteName, as: encoding)
        } catch {
            throw StageError(code: "internal", message: "storyboard sprite: \(error)")
        }
        let interval = duration / Double(count)
        var vtt = "WEBVTT\n"
        for index in 0..<count {
            let x = (index % across) * tileWidth, y = (index / across) * tileHeight
            vtt += "\n\(Self.timestamp(Double(index) * interval)) --> \(Self.timestamp(Double(index + 1) * interval))\n"
            vtt += "\(spriteName)#xywh=\(x),\(y),\(tileWidth),\(tileHeight)\n"
        }
        do {
            try vtt.write(toFile: context.scratchDirectory + "/" + vttName, atomically: true, encoding: .utf8)
        } catch {
            throw StageError(code: "internal", message: "storyboard vtt: \(error)", retryable: true)
        }
        func size(_ name: String) -> Int { fileSize(atPath: context.scratchDirectory + "/" + name) ?? 0 }
        return .product(OutputProduct(files: [
            ProducedFile(name: spriteName, contentType: format == "webp" ? "image/webp" : "image/jpeg", size: size(spriteName),
                         width: tileWidth * across, height: tileHeight * rows),
            ProducedFile(name: vttName, contentType: "text/vtt", size: size(vttName), duration: duration),
        ]))
    }

    /// `hh:mm:ss.mmm`, as WebVTT writes times.
    static func timestamp(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        return String(format: "%02d:%02d:%02d.%03d", milliseconds / 3_600_000, milliseconds / 60000 % 60, milliseconds / 1000 % 60, milliseconds % 1000)
    }
}

extension Storyboard: PassParticipant {
    var readsWholeStream: Bool { false }

    func join(_ pass: SourcePass, source: SourceFile, context: StageContext) throws(StageError) -> () throws(StageError) -> StageValue {
        let duration = try Self.knownDuration(pass.duration)
        let tiles = Box<[VipsImage?]>(Array(repeating: nil, count: count))
        try withFFmpeg("storyboard", stop: context.stop) { _ in
            try pass.addFrames(at: times(duration: duration), maxPixels: context.limits.maxImagePixels) { (index, frame) throws(FFmpegError) in
                tiles.value[index] = try tile(frame)
            }
        }
        return { () throws(StageError) in
            try sprite(tiles.value.compactMap { $0 }, duration: duration, context: context)
        }
    }
}
