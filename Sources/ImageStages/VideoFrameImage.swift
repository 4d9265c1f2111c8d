import FFmpegBindings
import PipelineEngine
import VipsBindings

/// One frame of a video input as an upright image: what `frame` yields and
/// what `thumbnail` starts from when its input is a video.
public enum VideoFrameImage {
    public static func grab(_ file: SourceFile, at position: FramePosition, context: StageContext, operation: String) throws(StageError) -> VipsImage {
        let stop = context.stop
        let grabbed: RGBFrame
        do {
            grabbed = try FrameGrabber.grab(path: file.path, at: position, maxPixels: context.limits.maxImagePixels,
                                            interrupt: InterruptFlag { stop.isStopped })
        } catch .interrupted {
            throw StageError.stopped(stop.reason ?? .canceled)
        } catch let .tooLarge(message) {
            throw StageError.inputTooLarge(message)
        } catch {
            throw StageError.invalidInput("\(operation): \(error)")
        }
        do {
            let image = try VipsImage.fromRGB(grabbed.bytes, width: grabbed.width, height: grabbed.height)
            return try image.rotated(quarterTurns: grabbed.rotation / 90)
        } catch {
            throw StageError(code: "internal", message: "\(operation): \(error)")
        }
    }

    /// `time` (seconds) or `percent` parameters as a position; the middle when neither is given.
    public static func position(time: Double?, percent: Double?) -> FramePosition {
        if let time { return .seconds(time) }
        return .fraction((percent ?? 50) / 100)
    }
}
