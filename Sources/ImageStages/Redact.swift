import StageSupport
import PipelineEngine
import VipsBindings

/// `redact`: hides every detected face, for privacy: blurred or pixelated
/// beyond recognition, with some margin around each face.
public struct Redact: FrameWiseStage {
    public enum Method: String, CaseIterable, Sendable { case blur, pixelate }

    public static let descriptor = StageDescriptor(
        name: "redact",
        summary: "Blur or pixelate every detected face",
        accepts: [.source(.image), .image],
        produces: .image,
        parameters: [
            ParameterSpec("method", .choice(Method.allCases.map(\.rawValue)), default: "pixelate", summary: "How faces are hidden"),
            ParameterSpec("strength", .number(min: 0.05, max: 1), default: 0.25,
                          summary: "Blur sigma or pixel block size, as a fraction of the face's size"),
            ParameterSpec("padding", .number(min: 0, max: 1), default: 0.2, summary: "Margin hidden around each face, as a fraction of its size"),
            SourceParameters.autoRotate,
        ]
    )

    let method: Method
    let strength: Double
    let padding: Double
    let autoRotate: Bool

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        method = Method(rawValue: parameters.string("method") ?? "pixelate") ?? .pixelate
        strength = parameters.double("strength") ?? 0.25
        padding = parameters.double("padding") ?? 0.2
        autoRotate = parameters.bool("autoRotate") ?? true
    }

    public func runFrame(_ input: StageValue, context: StageContext, anchor: CropAnchor?) throws(StageError) -> StageValue {
        let decoded = try input.vipsImage(limits: context.limits, autoRotate: autoRotate)
        return try withVips("redact") {
            var image = try decoded.materialized()
            for face in try FaceDetector.faces(in: image) {
                let area = face.padded(by: padding, within: image.width, image.height)
                let patch = try image.cropped(x: area.x, y: area.y, width: area.width, height: area.height)
                let size = Double(max(face.width, face.height))
                let hidden: VipsImage = switch method {
                case .blur: try patch.blurred(sigma: max(2, size * strength / 2))
                case .pixelate: try pixelated(patch, block: max(4, Int(size * strength)))
                }
                image = try image.inserting(hidden, x: area.x, y: area.y).materialized()
            }
            return .image(image)
        }
    }

    /// Blocks of `block` pixels, each one flat colour: shrunk, then enlarged with nearest neighbour.
    func pixelated(_ patch: VipsImage, block: Int) throws(VipsError) -> VipsImage {
        let across = max(1, patch.width / block), down = max(1, patch.height / block)
        let small = try patch.resized(xScale: Double(across) / Double(patch.width), yScale: Double(down) / Double(patch.height), kernel: .linear)
        return try small.resized(xScale: Double(patch.width) / Double(small.width), yScale: Double(patch.height) / Double(small.height), kernel: .nearest)
    }
}
