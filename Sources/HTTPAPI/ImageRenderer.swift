import PipelineEngine

/// Runs an image URL's operations over a source file. Supplied by the
/// executable, which is the only place that links the codecs: `kiln serve`
/// renders in supervised child processes, so a hostile source costs a render,
/// never the API.
public protocol ImageRenderer: Sendable {
    /// Runs `operations` (a validated list ending in `encode`) over the file at
    /// `source`, writing the result into `directory`.
    func render(source: String, operations: JSONValue, directory: String) async -> ImageRenderOutcome
}

public enum ImageRenderOutcome: Sendable, Equatable {
    /// The file written, and its type.
    case rendered(path: String, contentType: String)
    /// The source or the operations are at fault (422, with the code a job would fail with).
    case failed(code: String, message: String)
    /// No renderer could finish it (it crashed, or timed out): 503, worth retrying.
    case unavailable(String)
}
