import PipelineEngine

/// The libvips-backed stages, for the registry.
public enum ImageStages {
    public static let all: [any Stage.Type] = [Thumbnail.self, Resize.self, Crop.self, Rotate.self, Flip.self, Flop.self, Filter.self, Watermark.self, Redact.self, Encode.self, Blurhash.self, Metadata.self, Clip.self]

    /// Decodes an image input once for several outputs.
    public static let sharedDecoder: any SharedDecoder = ImageSharedDecoder()

    /// libvips' verdict on an image input: an accepted loader, within the pixel limits (header only).
    public static func inspect(_ source: SourceFile, limits: ProcessingLimits) throws(StageError) {
        _ = try SourceImage.header(source, limits: limits)
    }
}
