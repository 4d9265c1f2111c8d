import CFFmpeg

/// A libav* failure, read from the return code in the thread that got it.
public enum FFmpegError: Error, Equatable, CustomStringConvertible, Sendable {
    case endOfFile
    case tryAgain
    /// The interrupt callback asked FFmpeg to stop (cancel, lease lost, timeout).
    case interrupted
    case invalidData(message: String)
    /// The input is larger than the caller's limit (checked from its header).
    case tooLarge(message: String)
    case failed(operation: String, code: Int32, message: String)

    public var description: String {
        switch self {
        case .endOfFile: "end of file"
        case .tryAgain: "try again"
        case .interrupted: "interrupted"
        case let .invalidData(message): "invalid data: \(message)"
        case let .tooLarge(message): "too large: \(message)"
        case let .failed(operation, code, message): "\(operation) failed (\(code)): \(message)"
        }
    }

    static func message(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        av_strerror(code, &buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func from(_ code: Int32, operation: String) -> FFmpegError {
        if code == kiln_averror_eof() { return .endOfFile }
        if code == kiln_averror(EAGAIN) { return .tryAgain }
        if code == kiln_averror_exit() { return .interrupted }
        if code == kiln_averror_invaliddata() { return .invalidData(message: "\(operation): \(message(for: code))") }
        return .failed(operation: operation, code: code, message: message(for: code))
    }
}

@inline(__always)
func check(_ code: Int32, _ operation: String) throws(FFmpegError) {
    if code < 0 { throw FFmpegError.from(code, operation: operation) }
}
