import FFmpegBindings
import PipelineEngine

/// `videoRotate`: the picture turned clockwise by a quarter, a half or three
/// quarters, in the pixels (after the source's own rotation is applied).
struct VideoRotate: Stage, VideoEdit {
    static let descriptor = StageDescriptor(
        name: "videoRotate",
        summary: "Turn video clockwise by 90, 180 or 270 degrees",
        accepts: VideoEditKinds.accepts,
        produces: .video,
        parameters: [ParameterSpec("angle", .integer(min: -270, max: 270), required: true, summary: "Degrees clockwise: 90, 180, 270 (or -90, ...)")]
    )

    let degrees: Int

    init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        let angle = parameters.int("angle") ?? 0
        guard angle % 90 == 0, angle != 0 else {
            throw ValidationError(pointer: pointer.appending("angle"), message: "Video turns by a multiple of 90 degrees other than 0")
        }
        degrees = (angle % 360 + 360) % 360
    }

    func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        try input.adding(self, "videoRotate")
    }

    func size(after size: PictureSize, scale: Double) -> PictureSize {
        degrees == 180 ? size : PictureSize(width: size.height, height: size.width)
    }

    func steps(on size: PictureSize, scale: Double, context: StageContext) throws(StageError) -> [PictureEdits.Step] {
        [.turn(degrees)]
    }
}
