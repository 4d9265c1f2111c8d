import StageSupport
import PipelineEngine
import VipsBindings

/// Decodes an image input once for every output whose first step reads it
/// upright, at the largest scale any of them needs (shrink-on-load included),
/// and keeps that decode in memory for all of them: product-photo's 2048 px
/// WebP and AVIF, its three thumbnails and its placeholder cost one JPEG decode.
struct ImageSharedDecoder: SharedDecoder {
    /// Above this a shared decode would hold too much memory for too long;
    /// each output then decodes for itself, streaming.
    static let maxSharedPixels = 24_000_000

    func decode(_ source: SourceFile, for outputs: [JobPlan.Output], limits: ProcessingLimits) throws(StageError) -> SharedDecode? {
        guard source.kind == .image else { return nil }
        let sharing = outputs.filter { output in
            guard let first = output.steps.first else { return false }
            // metadata reports the file itself (format, EXIF); autoRotate false wants other pixels.
            return type(of: first.stage).descriptor.accepts.contains(.image) && !(first.stage is Metadata)
                && (first.parameters.bool("autoRotate") ?? true)
        }
        guard sharing.count > 1 else { return nil }
        let header = try SourceImage.header(source, limits: limits)
        // Each output of an animation decodes its frames for itself.
        guard try Animation.header(of: source, image: header) == nil else { return nil }
        let turned = header.orientation >= 5
        let width = turned ? header.height : header.width, height = turned ? header.width : header.height
        let scale = min(1, sharing.map { ($0.steps[0].stage as? SourceScaling)?.sourceScale(width: width, height: height) ?? 1 }.max() ?? 1)
        let sharedWidth = max(1, Int((Double(width) * scale).rounded())), sharedHeight = max(1, Int((Double(height) * scale).rounded()))
        guard sharedWidth * sharedHeight <= Self.maxSharedPixels else { return nil }
        let image = try withVips("decode") {
            let decoded = scale < 1
                ? try VipsImage.load(path: source.path, resizedTo: sharedWidth, sharedHeight, autoRotate: true)
                : try header.autoRotated()
            return try decoded.materialized()
        }
        return SharedDecode(value: .image(image), outputs: Set(sharing.map(\.name)))
    }
}

extension Thumbnail: SourceScaling {}
extension Resize: SourceScaling {}

extension Blurhash: SourceScaling {
    public func sourceScale(width: Int, height: Int) -> Double {
        min(1, Double(Self.sampleSide) / Double(max(width, height)))
    }
}
