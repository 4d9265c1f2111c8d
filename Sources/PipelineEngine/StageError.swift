/// Why a step failed while running. `code` is what a client sees as
/// `error.code`; `retryable` separates a passing fault (disk full, storage down)
/// from bad input, which fails the job at once.
public struct StageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var retryable: Bool

    public init(code: String, message: String, retryable: Bool = false) {
        self.code = code
        self.message = message
        self.retryable = retryable
    }

    public var description: String { "\(code): \(message)" }

    /// The input could not be decoded (truncated, corrupt, wrong type).
    public static func invalidInput(_ message: String) -> StageError {
        StageError(code: "invalid_input", message: message)
    }

    /// The input is larger than the configured limits allow (a decompression bomb).
    public static func inputTooLarge(_ message: String) -> StageError {
        StageError(code: "input_too_large", message: message)
    }

    public static func stopped(_ reason: StopReason) -> StageError {
        StageError(code: reason.rawValue, message: "processing stopped: \(reason.rawValue)", retryable: reason == .leaseLost)
    }
}
