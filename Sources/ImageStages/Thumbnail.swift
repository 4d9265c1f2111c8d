import StageSupport
import PipelineEngine
import VipsBindings

/// `thumbnail`: a small image that fits or fills a box. From the input file it
/// uses libvips' shrink-on-load, so a 50-megapixel JPEG is decoded at a fraction
/// of its size; EXIF orientation is applied unless `autoRotate` is false. Of a
/// video it thumbnails the frame at `time` or `percent` (the middle by default).
public struct Thumbnail: FrameWiseStage {
    public static let descriptor = StageDescriptor(
        name: "thumbnail",
        summary: "Shrink an image to fit or fill a box (shrink-on-load for speed)",
        accepts: [.source(.image), .source(.video), .image],
        produces: .image,
        parameters: [
            ParameterSpec("width", .integer(min: 1, max: ProcessingLimits.largestRequestableSide), summary: "Box width in pixels"),
            ParameterSpec("time", .number(min: 0, max: 86_400), onlyFor: .source(.video), summary: "Of a video: the frame at this many seconds"),
            ParameterSpec("percent", .number(min: 0, max: 100), onlyFor: .source(.video),
                          summary: "Of a video: the frame at this percentage of the duration (default: the middle)"),
            ParameterSpec("frame", .integer(min: 0, max: 100_000), onlyFor: .source(.image),
                          summary: "Of an animated GIF or WebP: this frame alone (0 is the first), as a still; default every frame"),
            ParameterSpec("height", .integer(min: 1, max: ProcessingLimits.largestRequestableSide), summary: "Box height in pixels"),
            ParameterSpec("fit", .choice(ThumbnailFit.allCases.map(\.rawValue)), default: "inside",
                          summary: "inside: fit, never enlarge; contain: fit, may enlarge; cover: fill and centre-crop; attention: fill and crop to the most interesting region"),
            SourceParameters.autoRotate,
        ]
    )

    let width: Int?
    let height: Int?
    let fit: ThumbnailFit
    let autoRotate: Bool
    let framePosition: FramePosition
    let frame: Int?

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        width = parameters.int("width")
        height = parameters.int("height")
        guard width != nil || height != nil else {
            throw ValidationError(pointer: pointer, message: "thumbnail needs width, height or both")
        }
        fit = ThumbnailFit(rawValue: parameters.string("fit") ?? "inside") ?? .inside
        if fit == .cover || fit == .attention, width == nil || height == nil {
            throw ValidationError(pointer: pointer.appending("fit"), message: "fit \(fit.rawValue) needs both width and height")
        }
        autoRotate = parameters.bool("autoRotate") ?? true
        if parameters.double("time") != nil && parameters.double("percent") != nil {
            throw ValidationError(pointer: pointer.appending("percent"), message: "give time or percent, not both")
        }
        framePosition = VideoFrameImage.position(time: parameters.double("time"), percent: parameters.double("percent"))
        frame = parameters.int("frame")
    }

    /// The same arithmetic libvips does, done first: the output size is known
    /// (and bounded) before a pixel is computed, and a missing side is given
    /// as the size it will have rather than as "unbounded".
    func geometry(sourceWidth: Int, sourceHeight: Int) -> ResizeGeometry {
        let resizeFit: ResizeFit = switch fit {
        case .inside, .contain: .inside
        case .cover, .attention: .cover
        }
        return ResizeGeometry(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height,
                              fit: resizeFit, enlarge: fit != .inside)
    }

    /// The smallest scale of the source this step needs, for a shared decode.
    public func sourceScale(width sourceWidth: Int, height sourceHeight: Int) -> Double {
        geometry(sourceWidth: sourceWidth, sourceHeight: sourceHeight).largestScale
    }

    /// The largest JPEG shrink-on-load (8, 4 or 2) whose decode, libjpeg's size
    /// rounded up, still covers the scaled image; nil when even 2 would not.
    static func jpegShrink(width: Int, height: Int, covering scaledWidth: Int, _ scaledHeight: Int) -> Int? {
        [8, 4, 2].first { shrink in
            (width + shrink - 1) / shrink >= scaledWidth && (height + shrink - 1) / shrink >= scaledHeight
        }
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        if let frame, case let .source(file) = input, file.kind == .image {
            return try runFrame(.image(try Animation.still(frame, of: file, limits: context.limits, stop: context.stop)), context: context, anchor: nil)
        }
        return try runEachFrame(input, context: context)
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        if case let .source(file) = input, file.kind == .video {
            let frame = try VideoFrameImage.grab(file, at: framePosition, context: context, operation: "thumbnail")
            return try runFrame(.image(frame), context: context, anchor: nil)
        }
        let source = try input.orientedSource(limits: context.limits, autoRotate: autoRotate), header = source.header
        let box = geometry(sourceWidth: source.width, sourceHeight: source.height)
        try OutputBounds.check(width: box.scaledWidth, height: box.scaledHeight, limits: context.limits, operation: "thumbnail")
        let boxWidth = width ?? box.finalWidth, boxHeight = height ?? box.finalHeight
        return try withVips("thumbnail") {
            if case let .source(file) = input {
                if header?.loader == "jpegload",
                   let shrink = Self.jpegShrink(width: source.width, height: source.height, covering: box.scaledWidth, box.scaledHeight) {
                    return .image(try VipsImage.thumbnailJPEG(
                        path: file.path, header: header, turbo: context.limits.turboJPEG, shrink: shrink, scaledWidth: box.scaledWidth, scaledHeight: box.scaledHeight,
                        finalWidth: box.finalWidth, finalHeight: box.finalHeight, fit: fit, autoRotate: autoRotate))
                }
                return .image(try VipsImage.thumbnail(path: file.path, width: boxWidth, height: boxHeight, fit: fit, autoRotate: autoRotate))
            }
            let image = try input.vipsImage(limits: context.limits)
            if let anchor, fit == .attention {
                // libvips would choose each frame's region anew; the anchor keeps the first one's.
                let scaled = try image.resized(xScale: Double(box.scaledWidth) / Double(image.width), yScale: Double(box.scaledHeight) / Double(image.height))
                return .image(try Gravity.content(.attention).crop(scaled, width: box.finalWidth, height: box.finalHeight, anchor: anchor))
            }
            return .image(try image.thumbnail(width: boxWidth, height: boxHeight, fit: fit))
        }
    }
}
