import FFmpegBindings
import ImageStages
import PipelineEngine
import StageSupport
import VipsBindings

/// `videoWatermark`: an image or a line of text over every frame, placed by
/// gravity with a margin, at an opacity, scaled relative to the picture. The
/// mark is drawn by the image `watermark`'s own code, once, at the size the
/// video is encoded, and laid over each frame by libavfilter's overlay.
struct VideoWatermark: Stage, VideoEdit {
    static let descriptor = StageDescriptor(
        name: "videoWatermark",
        summary: "Overlay an image or burned-in text on video: gravity, margin, opacity, scale",
        accepts: VideoEditKinds.accepts,
        produces: .video,
        parameters: [
            ParameterSpec("image", .string(maxLength: 256), summary: "The mark: \(AssetReference.syntax)"),
            ParameterSpec("text", .string(maxLength: 500), summary: "Or text to burn in"),
            ParameterSpec("font", .choice(Watermark.fonts), default: "DejaVu Sans Bold", summary: "Font of the text"),
            ParameterSpec("fontSize", .integer(min: 4, max: 2000), summary: "Text height in pixels of the video as encoded; default 5% of its shorter side"),
            ParameterSpec("colour", .colour, default: "#ffffff", summary: "Text colour"),
            ParameterSpec("gravity", .choice(Compass.allCases.map(\.rawValue)), default: "southeast", summary: "Where the mark sits"),
            ParameterSpec("margin", .integer(min: 0, max: 10000), default: 16, summary: "Pixels (of the video as encoded) between the mark and the edges it touches"),
            ParameterSpec("opacity", .number(min: 0, max: 1), default: 0.8, summary: "0 invisible, 1 opaque"),
            ParameterSpec("scale", .number(min: 0.01, max: 1), summary: "Mark width as a fraction of the picture's width (image marks default 0.25)"),
        ]
    )

    let mark: Watermark

    init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        mark = try Watermark(parameters: parameters, at: pointer)
    }

    var assetReferences: [String] { mark.assetReferences }

    func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        try input.adding(self, "videoWatermark")
    }

    func steps(on size: PictureSize, scale: Double, context: StageContext) throws(StageError) -> [PictureEdits.Step] {
        let placed = try mark.placedMark(width: size.width, height: size.height, context: context)
        return [.overlay(OverlayPicture(width: placed.width, height: placed.height, rgba: placed.rgba, x: placed.x, y: placed.y))]
    }
}
