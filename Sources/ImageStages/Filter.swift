import StageSupport
import PipelineEngine
import VipsBindings

/// `filter`: colour adjustments (brightness, contrast, saturation, hue,
/// grayscale, sepia, invert, tint), blur and sharpen, and named looks. The
/// colour adjustments compose into one affine map applied in one pass.
public struct Filter: FrameWiseStage {
    public static let descriptor = StageDescriptor(
        name: "filter",
        summary: "Adjust colour, blur or sharpen, or apply a named look (clarendon, gingham, juno, lark, moon, ...)",
        accepts: [.source(.image), .image],
        produces: .image,
        parameters: [
            ParameterSpec("look", .choice(Looks.names), summary: "A named look; explicit adjustments apply after it"),
            ParameterSpec("grayscale", .boolean, summary: "Remove colour (Rec. 709 luma)"),
            ParameterSpec("sepia", .number(min: 0, max: 1), summary: "Sepia amount, 0 none to 1 full"),
            ParameterSpec("saturation", .number(min: 0, max: 10), summary: "Multiplier: 0 grey, 1 unchanged"),
            ParameterSpec("hue", .number(min: -360, max: 360), summary: "Hue rotation in degrees"),
            ParameterSpec("brightness", .number(min: 0, max: 10), summary: "Multiplier: 1 unchanged"),
            ParameterSpec("contrast", .number(min: 0, max: 10), summary: "Multiplier around mid-grey: 1 unchanged"),
            ParameterSpec("invert", .boolean, summary: "Negative"),
            ParameterSpec("tint", .colour, summary: "Wash the image with this colour"),
            ParameterSpec("tintStrength", .number(min: 0, max: 1), default: 0.5, summary: "How strongly tint applies"),
            ParameterSpec("sharpen", .number(min: 0.3, max: 10), summary: "Unsharp mask sigma"),
            ParameterSpec("blur", .number(min: 0.3, max: 100), summary: "Gaussian blur sigma"),
            SourceParameters.autoRotate,
        ]
    )

    let adjustments: [Adjustment]
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        var list = parameters.string("look").flatMap { Looks.table[$0] } ?? []
        if parameters.bool("grayscale") == true { list.append(.grayscale(1)) }
        if let sepia = parameters.double("sepia") { list.append(.sepia(sepia)) }
        if let saturation = parameters.double("saturation") { list.append(.saturation(saturation)) }
        if let hue = parameters.double("hue") { list.append(.hue(hue)) }
        if let brightness = parameters.double("brightness") { list.append(.brightness(brightness)) }
        if let contrast = parameters.double("contrast") { list.append(.contrast(contrast)) }
        if parameters.bool("invert") == true { list.append(.invert(1)) }
        if let tint = parameters.string("tint") { list.append(.tint(tint, parameters.double("tintStrength") ?? 0.5)) }
        if let sigma = parameters.double("sharpen") { list.append(.sharpen(sigma)) }
        if let sigma = parameters.double("blur") { list.append(.blur(sigma)) }
        guard !list.isEmpty else {
            throw ValidationError(pointer: pointer, message: "filter needs a look or at least one adjustment")
        }
        adjustments = list
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        let source = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        return try withVips("filter") {
            var image = try source.inSRGB()
            var pending = ColourMatrix.identity
            func flush() throws {
                if !pending.isIdentity { image = try image.colourTransformed(matrix: pending.matrix, offset: pending.offset) }
                pending = .identity
            }
            for adjustment in adjustments {
                switch adjustment {
                case let .blur(sigma):
                    try flush()
                    image = try image.blurred(sigma: sigma)
                case let .sharpen(sigma):
                    try flush()
                    image = try image.sharpened(sigma: sigma)
                default:
                    pending = pending.then(Self.matrix(for: adjustment))
                }
            }
            try flush()
            return .image(image)
        }
    }

    static func matrix(for adjustment: Adjustment) -> ColourMatrix {
        switch adjustment {
        case let .brightness(amount): .brightness(amount)
        case let .contrast(amount): .contrast(amount)
        case let .saturation(amount): .saturation(amount)
        case let .hue(degrees): .hue(degrees)
        case let .grayscale(amount): .grayscale(amount)
        case let .sepia(amount): .sepia(amount)
        case let .invert(amount): .invert(amount)
        case let .tint(hex, strength):
            Colour(parsing: hex).map { .tint(red: $0.red, green: $0.green, blue: $0.blue, strength: strength) } ?? .identity
        case .blur, .sharpen: .identity
        }
    }
}
