import FFmpegBindings
import PipelineEngine
import VipsBindings

/// One frame of a video input as an upright image: what `frame` yields and
/// what `thumbnail` starts from when its input is a video.
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

/// FFmpeg work for a step, with its failures as the job's errors: a stop as
/// `stopped`, a header over the limits as `input_too_large`, anything else as
/// `invalid_input`. Shared by every step that reads video or audio.
public func withFFmpeg<T>(_ operation: String, stop: StopToken, _ body: (InterruptFlag) throws -> T) throws(StageError) -> T {
    do {
        return try body(InterruptFlag { stop.isStopped })
    } catch let error as StageError {
        throw error
    } catch FFmpegError.interrupted {
        throw StageError.stopped(stop.reason ?? .canceled)
    } catch let FFmpegError.tooLarge(message) {
        throw StageError.inputTooLarge(message)
    } catch {
        throw StageError.invalidInput("\(operation): \(error)")
    }
}
