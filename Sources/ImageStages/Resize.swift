import StageSupport
import PipelineEngine
import VipsBindings

/// `resize`: scales to a box with sharp's five fits. From the input file it
/// decodes with shrink-on-load (a JPEG through TurboJPEG, as `thumbnail`);
/// no side grows unless `enlarge` is set.
public struct Resize: FrameWiseStage {
    public static let descriptor = StageDescriptor(
        name: "resize",
        summary: "Scale an image to a width and/or height (cover, contain, fill, inside, outside)",
        accepts: [.source(.image), .image],
        produces: .image,
        parameters: [
            ParameterSpec("width", .integer(min: 1, max: ProcessingLimits.largestRequestableSide), summary: "Box width in pixels"),
            ParameterSpec("height", .integer(min: 1, max: ProcessingLimits.largestRequestableSide), summary: "Box height in pixels"),
            ParameterSpec("fit", .choice(ResizeFit.allCases.map(\.rawValue)), default: "cover",
                          summary: "cover: fill the box, crop the overflow; contain: fit inside, pad with background; fill: stretch to the box; inside: fit inside; outside: cover the box without cropping"),
            ParameterSpec("gravity", .choice(Gravity.names), default: "centre", summary: "What cover keeps, or where contain places the image"),
            ParameterSpec("enlarge", .boolean, default: false, summary: "Allow scaling up when the image is smaller than the box"),
            ParameterSpec("kernel", .choice(ResizeKernel.allCases.map(\.rawValue)), default: "lanczos3", summary: "Resampling kernel"),
            ParameterSpec("background", .colour, summary: "Padding colour for contain; default transparent with alpha, else black"),
            SourceParameters.autoRotate,
        ]
    )

    let width: Int?
    let height: Int?
    let fit: ResizeFit
    let gravity: Gravity
    let enlarge: Bool
    let kernel: ResizeKernel
    let background: Colour?
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        width = parameters.int("width")
        height = parameters.int("height")
        guard width != nil || height != nil else { throw ValidationError(pointer: pointer, message: "resize needs width, height or both") }
        fit = ResizeFit(rawValue: parameters.string("fit") ?? "cover") ?? .cover
        gravity = Gravity(parameters.string("gravity"))
        if fit == .contain, !gravity.isCompass {
            throw ValidationError(pointer: pointer.appending("gravity"), message: "contain places the image by a compass position, not by content")
        }
        enlarge = parameters.bool("enlarge") ?? false
        kernel = ResizeKernel(rawValue: parameters.string("kernel") ?? "lanczos3") ?? .lanczos3
        background = parameters.colour("background")
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    /// The smallest scale of the source this step needs, for a shared decode.
    public func sourceScale(width sourceWidth: Int, height sourceHeight: Int) -> Double {
        ResizeGeometry(sourceWidth: sourceWidth, sourceHeight: sourceHeight, width: width, height: height, fit: fit, enlarge: enlarge).largestScale
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        // From the file, its header is opened once: for the size as shown and for the JPEG decode below.
        let source = try input.orientedSource(limits: context.limits, autoRotate: autoRotate), header = source.header
        let geometry = ResizeGeometry(sourceWidth: source.width, sourceHeight: source.height, width: width, height: height, fit: fit, enlarge: enlarge)
        try OutputBounds.check(width: geometry.scaledWidth, height: geometry.scaledHeight, limits: context.limits, operation: "resize")
        try OutputBounds.check(width: geometry.finalWidth, height: geometry.finalHeight, limits: context.limits, operation: "resize")
        // A JPEG shrunk to at most half decodes at 1/2, 1/4 or 1/8 through TurboJPEG and
        // resamples as `thumbnail` does. A stretch (`fill`) keeps libvips' path.
        var jpeg: (header: VipsImage, shrink: Int)?
        if let header, header.loader == "jpegload", kernel == .lanczos3, fit != .fill,
           let shrink = Thumbnail.jpegShrink(width: source.width, height: source.height, covering: geometry.scaledWidth, geometry.scaledHeight) {
            jpeg = (header, shrink)
        }
        return try withVips("resize") {
            var image: VipsImage
            if let jpeg, case let .source(file) = input {
                image = try VipsImage.thumbnailJPEG(
                    path: file.path, header: jpeg.header, turbo: context.limits.turboJPEG, shrink: jpeg.shrink,
                    scaledWidth: geometry.scaledWidth, scaledHeight: geometry.scaledHeight,
                    finalWidth: geometry.scaledWidth, finalHeight: geometry.scaledHeight, fit: .inside, autoRotate: autoRotate)
            } else if case let .source(file) = input, kernel == .lanczos3 {
                // Shrink-on-load: a 4K JPEG decodes at 1/2, 1/4 or 1/8 scale, then resamples.
                image = try VipsImage.load(path: file.path, resizedTo: geometry.scaledWidth, geometry.scaledHeight, autoRotate: autoRotate)
            } else {
                let base = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
                image = try base.resized(xScale: Double(geometry.scaledWidth) / Double(base.width),
                                         yScale: Double(geometry.scaledHeight) / Double(base.height), kernel: kernel)
            }
            switch fit {
            case .cover:
                image = try gravity.crop(image, width: geometry.finalWidth, height: geometry.finalHeight, anchor: anchor)
            case .contain:
                if case let .compass(compass) = gravity, image.width != geometry.finalWidth || image.height != geometry.finalHeight {
                    if let background, background.alpha < 255, !image.hasAlpha { image = try image.addingAlpha() }
                    image = try image.placed(on: geometry.finalWidth, geometry.finalHeight, at: compass, background: image.background(background))
                }
            case .fill, .inside, .outside:
                break
            }
            return .image(image)
        }
    }
}
