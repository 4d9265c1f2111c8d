import FFmpegBindings
import PipelineEngine
import VipsBindings

/// One frame of a video input as an upright image: what `frame` yields and
/// what `thumbnail` starts from when its input is a video.
/// Where in a video a frame is taken: the image stages name it without importing FFmpeg.
public typealias FramePosition = FFmpegBindings.FramePosition

public enum VideoFrameImage {
    public static func grab(_ file: SourceFile, at position: FramePosition, context: StageContext, operation: String) throws(StageError) -> VipsImage {
        let frame = try withFFmpeg(operation, stop: context.stop) { interrupt in
            try FrameGrabber.grab(path: file.path, at: position, maxPixels: context.limits.maxImagePixels, interrupt: interrupt)
        }
        return try withVips(operation) { try image(from: frame) }
    }

    /// A decoded frame as an upright sRGB image.
    public static func image(from frame: RGBFrame) throws(VipsError) -> VipsImage {
        try VipsImage.fromRGB(frame.bytes, width: frame.width, height: frame.height).rotated(quarterTurns: frame.rotation / 90)
    }

    /// `time` (seconds) or `percent` parameters as a position; the middle when neither is given.
    public static func position(time: Double?, percent: Double?) -> FramePosition {
        if let time { return .seconds(time) }
        return .fraction((percent ?? 50) / 100)
    }
}

