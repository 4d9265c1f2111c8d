/// The decoder's own verdict on a job's input, once, before any step runs: the
/// upload sniffer judged a few bytes; this opens the file as the decoder will
/// and refuses formats Kiln does not accept (`unsupported_format`) and inputs
/// over the limits (`input_too_large`) before any output is attempted.
public protocol SourceInspector: Sendable {
    /// Blocking: runs on the engine's thread pool.
    func inspect(_ source: SourceFile, limits: ProcessingLimits) throws(StageError)
}
