import StageSupport
import PipelineEngine
import VipsBindings

/// `blurhash`: a compact placeholder string (blurha.sh) for the image, in the
/// output's `blurhash` result. Computed on a small sRGB downscale; the same
/// step works on a video frame once it is an image.
public struct Blurhash: Stage {
    public static let descriptor = StageDescriptor(
        name: "blurhash",
        summary: "A BlurHash placeholder string of the image, as the output's blurhash result",
        accepts: [.source(.image), .image],
        produces: .product,
        parameters: [
            ParameterSpec("componentsX", .integer(min: 1, max: 9), default: 4, summary: "Horizontal detail (components)"),
            ParameterSpec("componentsY", .integer(min: 1, max: 9), default: 3, summary: "Vertical detail (components)"),
            SourceParameters.autoRotate,
        ]
    )

    /// The downscale the hash is computed on: cheap, and more pixels change nothing a placeholder shows.
    static let sampleSide = 32

    let componentsX: Int
    let componentsY: Int
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        componentsX = parameters.int("componentsX") ?? 4
        componentsY = parameters.int("componentsY") ?? 3
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    /// The pixels the hash is computed from.
    static func sample(_ input: StageValue, limits: ProcessingLimits, autoRotate: Bool) throws(StageError) -> (pixels: [UInt8], width: Int, height: Int) {
        try withVips("blurhash") {
            let small: VipsImage
            if case let .source(file) = input {
                _ = try SourceImage.header(file, limits: limits)
                small = try VipsImage.thumbnail(path: file.path, width: sampleSide, height: sampleSide, fit: .inside, autoRotate: autoRotate)
            } else {
                small = try input.vipsImage(limits: limits).thumbnail(width: sampleSide, height: sampleSide, fit: .inside)
            }
            let rendered = try small.materialized()
            return (try rendered.rgbBytes(), rendered.width, rendered.height)
        }
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        let sample = try Self.sample(input, limits: context.limits, autoRotate: autoRotate)
        let hash = BlurhashEncoder.encode(pixels: sample.pixels, width: sample.width, height: sample.height,
                                          componentsX: componentsX, componentsY: componentsY)
        return .product(OutputProduct(results: ["blurhash": .string(hash)]))
    }
}
