import FFmpegBindings
import PipelineEngine

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
