import StageSupport
import Foundation
import PipelineEngine
import VipsBindings

/// `watermark`: an image (an upload of the tenant's, or a file under the
/// pipelines directory) or a line of text, placed by gravity with a margin,
/// at an opacity, scaled relative to the base image, or tiled across it. With
/// `gravity: "face"` an image goes on every detected face instead, scaled to
/// it (sunglasses, a mask, a sticker): the simple kind of face filter.
public struct Watermark: FrameWiseStage {
    public static let fonts = ["DejaVu Sans", "DejaVu Sans Bold", "DejaVu Serif", "DejaVu Serif Bold", "DejaVu Sans Mono"]

    public static let descriptor = StageDescriptor(
        name: "watermark",
        summary: "Overlay an image or text: gravity, margin, opacity, scale, tiling",
        accepts: [.source(.image), .image],
        produces: .image,
        parameters: [
            ParameterSpec("image", .string(maxLength: 256), summary: "The mark: \(AssetReference.syntax)"),
            ParameterSpec("text", .string(maxLength: 500), summary: "Or a text mark"),
            ParameterSpec("font", .choice(fonts), default: "DejaVu Sans Bold", summary: "Font of a text mark"),
            ParameterSpec("fontSize", .integer(min: 4, max: 2000), summary: "Text height in pixels; default 5% of the base image's shorter side"),
            ParameterSpec("colour", .colour, default: "#ffffff", summary: "Text colour"),
            ParameterSpec("gravity", .choice(Compass.allCases.map(\.rawValue) + ["face"]), default: "southeast",
                          summary: "Where the mark sits; face: an image mark on every detected face, scaled to it"),
            ParameterSpec("faceAnchor", .choice(FaceAnchor.allCases.map(\.rawValue)), default: "centre",
                          summary: "With gravity face, what of the face the mark's centre goes on: centre, eyes, mouth; top puts the mark on the head (a hat)"),
            ParameterSpec("margin", .integer(min: 0, max: 10000), default: 16, summary: "Pixels between the mark and the edges it touches (and between tiles)"),
            ParameterSpec("opacity", .number(min: 0, max: 1), default: 0.8, summary: "0 invisible, 1 opaque"),
            ParameterSpec("scale", .number(min: 0.01, max: 4),
                          summary: "Mark width as a fraction of the base width (at most 1; image marks default 0.25), or with gravity face of each face's width (default 1)"),
            ParameterSpec("tile", .boolean, default: false, summary: "Repeat the mark across the whole image"),
            SourceParameters.autoRotate,
        ]
    )

    enum Mark: Equatable {
        case image(String)
        case text(String, font: String, size: Int?, colour: Colour)
    }

    /// What of a face the mark is centred on, as fractions of its box.
    enum FaceAnchor: String, CaseIterable {
        case centre, eyes, mouth, top

        /// Where the mark's centre goes, down the face box, and whether the mark sits on top of it.
        var height: Double {
            switch self {
            case .centre: 0.5
            case .eyes: 0.4
            case .mouth: 0.78
            case .top: 0
            }
        }
    }

    let mark: Mark
    let gravity: Compass
    /// Set for `gravity: "face"`: the mark goes on each face instead.
    let faceAnchor: FaceAnchor?
    let margin: Int
    let opacity: Double
    let scale: Double?
    let tile: Bool
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        switch (parameters.string("image"), parameters.string("text")) {
        case let (image?, nil):
            guard AssetReference(image) != nil else {
                throw ValidationError(pointer: pointer.appending("image"), message: "Expected \(AssetReference.syntax)")
            }
            mark = .image(image)
        case let (nil, text?):
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw ValidationError(pointer: pointer.appending("text"), message: "A text mark needs some text")
            }
            mark = .text(text, font: parameters.string("font") ?? "DejaVu Sans Bold", size: parameters.int("fontSize"),
                         colour: parameters.colour("colour") ?? .white)
        default:
            throw ValidationError(pointer: pointer, message: "watermark needs exactly one of image or text")
        }
        gravity = Compass(rawValue: parameters.string("gravity") ?? "southeast") ?? .southeast
        margin = parameters.int("margin") ?? 16
        opacity = parameters.double("opacity") ?? 0.8
        scale = parameters.double("scale")
        tile = parameters.bool("tile") ?? false
        if parameters.string("gravity") == "face" {
            guard case .image = mark else {
                throw ValidationError(pointer: pointer.appending("gravity"), message: "face places an image mark; a text mark goes by a compass point")
            }
            guard !tile else { throw ValidationError(pointer: pointer.appending("tile"), message: "a mark on each face is not tiled") }
            faceAnchor = FaceAnchor(rawValue: parameters.string("faceAnchor") ?? "centre") ?? .centre
        } else {
            if parameters["faceAnchor"] != nil, parameters.values["faceAnchor"] != "centre" {
                throw ValidationError(pointer: pointer.appending("faceAnchor"), message: "faceAnchor applies with gravity face")
            }
            if let scale, scale > 1 {
                throw ValidationError(pointer: pointer.appending("scale"), message: "a mark is at most as wide as the image (scale 1); larger scales are for gravity face")
            }
            faceAnchor = nil
        }
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public var assetReferences: [String] {
        if case let .image(reference) = mark { return [reference] }
        return []
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        let decoded = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        if let faceAnchor { return .image(try onFaces(decoded, anchor: faceAnchor, context: context)) }
        let overlay = try markImage(width: decoded.width, height: decoded.height, context: context)
        return try withVips("watermark") {
            let base = try decoded.inSRGB()
            var result: VipsImage
            if tile {
                // Each tile is the mark plus a margin of empty space right and below.
                let cell = try overlay.placed(on: overlay.width + margin, overlay.height + margin, at: .northwest, background: [0, 0, 0, 0])
                let across = base.width / cell.width + 1, down = base.height / cell.height + 1
                let sheet = try cell.replicated(across: across, down: down).cropped(x: 0, y: 0, width: base.width, height: base.height)
                result = try base.composited(sheet, x: 0, y: 0)
            } else {
                let origin = gravity.origin(width: overlay.width, height: overlay.height, in: base.width, base.height, margin: margin)
                result = try base.composited(overlay, x: origin.x, y: origin.y)
            }
            // Compositing always yields alpha; an opaque base stays opaque.
            if !base.hasAlpha { result = try result.splitAlpha().colour.inSRGB() }
            return .image(result)
        }
    }

    /// The image mark on every face found in `decoded`, each scaled to its face's
    /// width; a picture without faces comes back as it was.
    func onFaces(_ decoded: VipsImage, anchor: FaceAnchor, context: StageContext) throws(StageError) -> VipsImage {
        let base = try withVips("watermark") { try decoded.inSRGB().materialized() }
        let faces = try FaceDetector.faces(in: base)
        guard !faces.isEmpty else { return base }
        let mark = try markSource(context: context)
        return try withVips("watermark") {
            var result = base
            for face in faces {
                let width = max(1, Int((Double(face.width) * (scale ?? 1)).rounded()))
                let factor = Double(width) / Double(mark.width)
                let sized = try faded(try mark.resized(xScale: factor, yScale: factor))
                let centreX = face.x + face.width / 2
                let y = anchor == .top
                    ? face.y - sized.height
                    : face.y + Int(Double(face.height) * anchor.height) - sized.height / 2
                result = try result.composited(sized, x: centreX - sized.width / 2, y: y)
            }
            if !base.hasAlpha { result = try result.splitAlpha().colour.inSRGB() }
            return result
        }
    }

    /// The image mark as loaded, in sRGB with alpha, at its own size.
    func markSource(context: StageContext) throws(StageError) -> VipsImage {
        guard case let .image(reference) = mark, let path = context.assets[reference] else {
            throw StageError(code: "asset_not_found", message: "watermark image \(assetReferences.first ?? "") is not available")
        }
        let file = SourceFile(path: path, kind: .image, contentType: "image/x")
        let loaded = try StageValue.source(file).vipsImage(limits: context.limits)
        return try withVips("watermark") { try loaded.inSRGB().addingAlpha() }
    }

    /// The mark, sized for a picture of `width` x `height` and placed on it by
    /// gravity and margin, as straight-alpha RGBA bytes (a video's overlay).
    public func placedMark(width: Int, height: Int, context: StageContext) throws(StageError)
        -> (rgba: [UInt8], width: Int, height: Int, x: Int, y: Int) {
        let mark = try markImage(width: width, height: height, context: context)
        let origin = gravity.origin(width: mark.width, height: mark.height, in: width, height, margin: margin)
        let bytes = try withVips("watermark") { try mark.rgbaBytes() }
        return (bytes, mark.width, mark.height, origin.x, origin.y)
    }

    /// The mark as an sRGB image with alpha, sized for a base of `width` x `height`, opacity applied.
    func markImage(width baseWidth: Int, height baseHeight: Int, context: StageContext) throws(StageError) -> VipsImage {
        let base = (width: baseWidth, height: baseHeight)
        let shorter = min(base.width, base.height)
        switch mark {
        case .image:
            let loaded = try markSource(context: context)
            return try withVips("watermark") {
                var image = loaded
                let width = max(1, Int((Double(base.width) * (scale ?? 0.25)).rounded()))
                let factor = Double(width) / Double(image.width)
                image = try image.resized(xScale: factor, yScale: factor)
                return try faded(image)
            }
        case let .text(text, font, size, colour):
            let height = size ?? max(12, Int((Double(shorter) * 0.05).rounded()))
            // libvips renders text whole, at once: bounded before it draws. Glyphs take
            // about a square of the text's height each, wrapped or not, and the lines
            // wrap within the image (inside the margins when those leave room).
            let wrap = base.width - 2 * margin > 0 ? base.width - 2 * margin : base.width
            let glyphs = text.count
            let lines = max(1, min(glyphs, (glyphs * height + wrap - 1) / max(1, wrap)))
            try OutputBounds.check(width: min(glyphs * height, max(wrap, height)), height: lines * height * 3 / 2,
                                   limits: context.limits, operation: "watermark text")
            if glyphs.multipliedReportingOverflow(by: height * height).overflow || glyphs * height * height > context.limits.maxOutputPixels {
                throw StageError(code: "output_too_large", message:
                    "watermark text of \(glyphs) characters at \(height) px would cover about \(glyphs * height * height) pixels; the limit is \(context.limits.maxOutputPixels)")
            }
            return try withVips("watermark") {
                var mask = try VipsImage.textMask(text, font: "\(font) \(height)px", wrapWidth: wrap)
                if let scale {
                    let factor = Double(base.width) * scale / Double(mask.width)
                    mask = try mask.resized(xScale: factor, yScale: factor)
                }
                let ink = try mask.constant([colour.red, colour.green, colour.blue])
                let coverage = try mask.scaledBands([colour.alpha / 255], offsets: [0])
                return try faded(ink.joiningAlpha(coverage))
            }
        }
    }

    func faded(_ image: VipsImage) throws(VipsError) -> VipsImage {
        guard opacity < 1 else { return image }
        return try image.scaledBands([1, 1, 1, opacity], offsets: [0, 0, 0, 0])
    }
}
