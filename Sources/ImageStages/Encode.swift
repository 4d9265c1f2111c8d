import StageSupport
import Foundation
import PipelineEngine
import VipsBindings
import FFmpegBindings

/// `encode`: writes the image in a delivery format. This is where libvips
/// evaluates the whole lazy pipeline, so source decode errors surface here.
/// Metadata is stripped by default; colour stays right because an embedded
/// profile is converted to sRGB first (a Display P3 photo keeps its look).
public struct Encode: Stage {
    public enum Format: String, CaseIterable, Sendable {
        case jpeg, png, webp, avif, gif, heic

        var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
        var contentType: String { "image/\(rawValue)" }
        var defaultQuality: Int { self == .avif || self == .heic ? 50 : 80 }
    }

    /// Options and the formats each applies to; others refuse them at validation.
    static let formatOptions: [String: Set<Format>] = [
        "quality": [.jpeg, .webp, .avif, .heic], "lossless": [.webp, .avif], "effort": [.webp, .avif, .gif],
        "progressive": [.jpeg, .png], "chromaSubsampling": [.jpeg], "compression": [.png], "palette": [.png],
        "maxBytes": [.jpeg, .webp, .avif, .heic], "targetQuality": [.jpeg, .webp, .avif, .heic],
    ]

    public static let descriptor = StageDescriptor(
        name: "encode",
        summary: "Encode the image as JPEG, PNG, WebP, AVIF, GIF or HEIC",
        accepts: [.source(.image), .image],
        produces: .product,
        parameters: [
            ParameterSpec("format", .choice(Format.allCases.map(\.rawValue) + PictureSequenceVideo.Format.allCases.map(\.rawValue)),
                          summary: "Output format; default JPEG, or PNG when the image has alpha, and an animation's own (GIF or WebP); mp4 (H.264) or webm (VP9) make a silent video of an animation"),
            ParameterSpec("quality", .integer(min: 1, max: 100), summary: "Lossy quality: JPEG and WebP default 80, AVIF and HEIC 50"),
            ParameterSpec("lossless", .boolean, summary: "Lossless WebP or AVIF"),
            ParameterSpec("effort", .integer(min: 0, max: 9),
                          summary: "CPU spent on a smaller file: WebP 0-6 (default 4), AVIF 0-9 (default 2: 4 costs eight times as long), GIF 1-9 (default 7)"),
            ParameterSpec("progressive", .boolean, summary: "Progressive JPEG or interlaced PNG"),
            ParameterSpec("chromaSubsampling", .choice(ChromaSubsampling.allCases.map(\.rawValue)),
                          summary: "JPEG chroma: auto (4:2:0 below quality 90), 4:2:0 or 4:4:4"),
            ParameterSpec("compression", .integer(min: 0, max: 9), summary: "PNG zlib level (default 6)"),
            ParameterSpec("palette", .boolean, summary: "PNG with an 8-bit palette (quantised, much smaller)"),
            ParameterSpec("maxBytes", .integer(min: 100, max: 100_000_000),
                          summary: "Largest file allowed (JPEG, WebP, AVIF): quality is lowered first (not below 30), then the size; fails with budget_unreachable when nothing fits"),
            ParameterSpec("targetQuality", .number(min: 0.5, max: 0.999),
                          summary: "Look, not a number (JPEG, WebP, AVIF): the lowest quality whose file scores at least this SSIM against the image (0.95 is hard to tell apart, 0.99 very close), with the quality and score in the results"),
            ParameterSpec("stripMetadata", .boolean, default: true,
                          summary: "Drop EXIF, XMP and ICC metadata; colours are converted to sRGB first"),
            SourceParameters.autoRotate,
        ]
    )

    let format: Format?
    /// `mp4` or `webm`: an animation as video.
    let video: PictureSequenceVideo.Format?
    let parameters: Parameters
    let strip: Bool
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        format = parameters.string("format").flatMap(Format.init(rawValue:))
        video = parameters.string("format").flatMap(PictureSequenceVideo.Format.init(rawValue:))
        for (option, formats) in Self.formatOptions.sorted(by: { $0.key < $1.key }) where parameters[option] != nil {
            guard let format, formats.contains(format) else {
                let names = formats.map(\.rawValue).sorted().joined(separator: ", ")
                throw ValidationError(pointer: pointer.appending(option),
                                      message: "\(option) applies to \(names); name the format to use it")
            }
        }
        if format == .gif, let effort = parameters.int("effort"), effort < 1 {
            throw ValidationError(pointer: pointer.appending("effort"), message: "GIF effort is 1 to 9")
        }
        if format == .webp, let effort = parameters.int("effort"), effort > 6 {
            throw ValidationError(pointer: pointer.appending("effort"), message: "WebP effort is 0 to 6")
        }
        if parameters["targetQuality"] != nil, parameters["maxBytes"] != nil || parameters["quality"] != nil || parameters.bool("lossless") == true {
            throw ValidationError(pointer: pointer.appending("targetQuality"), message: "targetQuality chooses the quality itself: drop quality, lossless and maxBytes to use it")
        }
        if parameters["maxBytes"] != nil, parameters.bool("lossless") == true {
            throw ValidationError(pointer: pointer.appending("maxBytes"), message: "a lossless file has no quality to lower: drop lossless to use maxBytes")
        }
        self.parameters = parameters
        strip = parameters.bool("stripMetadata") ?? true
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    func encoding(for format: Format, quality asked: Int? = nil) -> ImageEncoding {
        let quality = asked ?? parameters.int("quality") ?? format.defaultQuality
        let lossless = parameters.bool("lossless") ?? false
        let progressive = parameters.bool("progressive") ?? false
        switch format {
        case .jpeg:
            let subsampling = parameters.string("chromaSubsampling").flatMap(ChromaSubsampling.init(rawValue:)) ?? .auto
            return .jpeg(quality: quality, progressive: progressive, subsampling: subsampling, strip: strip)
        case .png:
            return .png(compression: parameters.int("compression") ?? 6, palette: parameters.bool("palette") ?? false,
                        progressive: progressive, strip: strip)
        case .webp: return .webp(quality: quality, lossless: lossless, effort: parameters.int("effort") ?? 4, strip: strip)
        case .avif: return .avif(quality: quality, lossless: lossless, effort: parameters.int("effort") ?? 2, strip: strip)
        case .gif: return .gif(effort: parameters.int("effort") ?? 7, strip: strip)
        case .heic: return .heic(quality: quality, strip: strip)
        }
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        let animation = try Animation.of(input, limits: context.limits, stop: context.stop)
        if let video {
            guard let animation else {
                throw StageError(code: "not_animated", message: "\(video.rawValue) is made of an animated GIF or WebP; this image has one frame")
            }
            return .product(try AnimationVideo.write(animation, as: video, context: context))
        }
        let decoded: VipsImage
        if let animation { decoded = animation.frames[0] } else { decoded = try input.vipsImage(limits: context.limits, autoRotate: autoRotate) }
        // An animation stays one in a format that animates (its own, unless another is named);
        // JPEG, PNG and AVIF get its first frame.
        let chosen = format ?? animation?.sourceFormat ?? (decoded.hasAlpha ? .png : .jpeg)
        let animated = chosen == .gif || chosen == .webp ? animation : nil
        let image: VipsImage
        if let animated {
            image = try animated.stacked()
        } else {
            image = try withVips("encode") { () throws(VipsError) -> VipsImage in
                // Without its profile the pixels would be read as sRGB: convert them first.
                strip && decoded.hasICCProfile ? try decoded.iccToSRGB() : decoded
            }
        }
        let name = "\(context.outputName).\(chosen.fileExtension)"
        let path = context.scratchDirectory + "/" + name
        let stop = context.stop
        let report = context.reportProgress
        let watch = EvaluationWatch(progress: { report(Double($0) / 100) }, shouldStop: { stop.isStopped })
        func save(_ image: VipsImage, _ encoding: ImageEncoding, to path: String) throws(StageError) {
            do {
                try image.save(to: path, as: encoding, watch: watch, libjpegTurbo: context.limits.turboJPEG)
            } catch {
                try? FileManager.default.removeItem(atPath: path)
                if let reason = stop.reason { throw StageError.stopped(reason) }
                throw StageError.invalidInput("encode \(chosen.rawValue): \(error.message)")
            }
        }
        func saving<T>(_ body: () throws(StageError) -> T) throws(StageError) -> T {
            guard let slots = EncodeSlots.slots(for: chosen, pixels: image.width * image.height) else { return try body() }
            return try slots.withSlot(stop: stop, body)
        }
        // The searches (targetQuality, maxBytes) encode trial after trial of the same pixels:
        // the pipeline before this step is rendered once, and each trial written at its quality.
        let searched = parameters["targetQuality"] != nil || parameters["maxBytes"] != nil
        let pixels = searched ? try withVips("encode") { () throws(VipsError) -> VipsImage in try image.materialized() } : image
        let write = { (trial: VipsImage, quality: Int, trialPath: String) throws(StageError) in
            try stop.check()
            try save(trial, encoding(for: chosen, quality: quality), to: trialPath)
        }
        if let target = parameters.double("targetQuality") {
            let fit = try saving { () throws(StageError) in try QualityTarget(target: target).fit(pixels, path: path, write: write) }
            return .product(OutputProduct(files: [
                ProducedFile(name: name, contentType: chosen.contentType, size: fit.bytes, width: animated?.width ?? pixels.width,
                             height: animated?.height ?? pixels.height, duration: animated?.duration),
            ], results: [
                "quality": .number(Double(fit.quality)), "ssim": .number((fit.score * 10_000).rounded() / 10_000),
                "targetQuality": .number(target), "targetMet": .bool(fit.met), "encodings": .number(Double(fit.attempts)),
            ].merging(animated?.results ?? [:]) { first, _ in first }))
        }
        if let maxBytes = parameters.int("maxBytes") {
            let budget = ByteBudget(maxBytes: maxBytes, topQuality: parameters.int("quality") ?? chosen.defaultQuality)
            let fit = try saving { () throws(StageError) in
                guard let animated else { return try budget.fit(pixels, path: path, write: write) }
                // Smaller frames, all alike: each is scaled, and the animation stacked again.
                return try budget.fit(pixels, pictureSize: (animated.width, animated.height), path: path, scaled: { (width, height) throws(StageError) in
                    let smaller = try animated.mapFrames { (frame) throws(StageError) in
                        try withVips("encode") { try frame.resized(xScale: Double(width) / Double(frame.width), yScale: Double(height) / Double(frame.height)) }
                    }
                    return try withVips("encode") { try smaller.stacked().materialized() }
                }, write: write)
            }
            return .product(OutputProduct(files: [
                ProducedFile(name: name, contentType: chosen.contentType, size: fit.bytes, width: fit.width, height: fit.height,
                             duration: animated?.duration),
            ], results: [
                "quality": .number(Double(fit.quality)), "scale": .number(fit.scale), "bytes": .number(Double(fit.bytes)),
                "maxBytes": .number(Double(maxBytes)), "encodings": .number(Double(fit.attempts)),
            ].merging(animated?.results ?? [:]) { first, _ in first }))
        }
        try saving { () throws(StageError) in try save(image, encoding(for: chosen), to: path) }
        let size = fileSize(atPath: path) ?? 0
        return .product(OutputProduct(files: [
            ProducedFile(name: name, contentType: chosen.contentType, size: size, width: animated?.width ?? image.width,
                         height: animated?.height ?? image.height, duration: animated?.duration),
        ], results: animated?.results ?? [:]))
    }
}
