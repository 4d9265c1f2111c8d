import FFmpegBindings
import PipelineEngine
import StageSupport
import VipsBindings

/// `clip`: a few seconds of a video as an animation, for a GIF-like preview
/// loop: the frame-wise image steps run on every frame (thumbnail, crop,
/// filter, watermark, …), and `encode` writes it as an animated WebP or GIF,
/// or as a silent MP4 or WebM loop. Frames are taken upright, at an even
/// rate, and scaled to `width` as they are decoded, which bounds the memory.
public struct Clip: Stage {
    public static let descriptor = StageDescriptor(
        name: "clip",
        summary: "A few seconds of a video as an animation (frames at an even rate), for GIF-like previews: image steps then run on every frame",
        accepts: [.source(.video)],
        produces: .image,
        parameters: [
            ParameterSpec("start", .number(min: 0, max: 86_400), default: 0, summary: "Seconds into the video"),
            ParameterSpec("duration", .number(min: 0.5, max: 15), default: 3, summary: "Seconds of video, cut at its end"),
            ParameterSpec("fps", .number(min: 1, max: 30), default: 10, summary: "Frames a second"),
            ParameterSpec("width", .integer(min: 16, max: 1280), default: 480, summary: "Frame width; the height follows the picture (never enlarged)"),
        ]
    )

    let start: Double
    let duration: Double
    let fps: Double
    let width: Int

    public init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        start = parameters.double("start") ?? 0
        duration = parameters.double("duration") ?? 3
        fps = parameters.double("fps") ?? 10
        width = parameters.int("width") ?? 480
    }

    /// The times frames are taken at: an even rate from `start`, within the video.
    func times(videoDuration: Double?) -> [Double] {
        let end = min(start + duration, videoDuration ?? .infinity)
        let count = max(1, Int(((end - start) * fps).rounded(.up)))
        return (0..<count).map { start + Double($0) / fps }.filter { $0 < end || $0 == start }
    }

    public func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        guard case let .source(file) = input else { throw StageError(code: "internal", message: "clip needs the input file") }
        var frames: [VipsImage] = []
        try withFFmpeg("clip", stop: context.stop) { interrupt in
            let videoDuration = try MediaProbe(path: file.path, interrupt: interrupt).duration
            if let videoDuration, start >= videoDuration {
                throw StageError(code: "clip_outside_video", message: "the clip starts at \(start) s; the video is \(videoDuration) s long")
            }
            let times = times(videoDuration: videoDuration)
            try FrameGrabber.grab(path: file.path, at: times.map(FramePosition.seconds), maxPixels: context.limits.maxImagePixels,
                                  interrupt: interrupt) { frame throws(FFmpegError) in
                do {
                    let image = try VideoFrameImage.image(from: frame)
                    let scale = min(1, Double(width) / Double(image.width))
                    frames.append(scale < 1 ? try image.resized(xScale: scale, yScale: scale).materialized() : try image.materialized())
                } catch {
                    throw .failed(operation: "clip frame", code: -1, message: "\(error)")
                }
                context.reportProgress(Double(frames.count) / Double(times.count))
            }
        }
        guard let first = frames.first else { throw StageError.invalidInput("clip: no frame could be decoded") }
        // A stream that changes size mid-way: every frame at the first one's size, as an animation must be.
        frames = try withVips("clip") {
            try frames.map { frame in
                frame.width == first.width && frame.height == first.height ? frame
                    : try frame.resized(xScale: Double(first.width) / Double(frame.width), yScale: Double(first.height) / Double(frame.height))
            }
        }
        let delay = Int((1000 / fps).rounded())
        return .image(Animation(frames: frames, delays: Array(repeating: delay, count: frames.count), loop: 0, sourceFormat: .webp))
    }
}
