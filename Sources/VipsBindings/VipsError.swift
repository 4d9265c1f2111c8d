import CVips
import Foundation

/// A libvips failure with the message libvips recorded for it.
public struct VipsError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let message: String

    public var description: String { "\(operation): \(message)" }

    /// Reads and clears libvips' error buffer. libvips keeps one buffer per process;
    /// `vips_error_buffer_copy` copies and clears it under libvips' lock, so concurrent
    /// failures do not mix messages as badly as reading `vips_error_buffer()` would.
    static func fromBuffer(operation: String) -> VipsError {
        guard let raw = vips_error_buffer_copy() else {
            return VipsError(operation: operation, message: "unknown libvips error")
        }
        defer { kiln_g_free(raw) }
        let text = String(cString: raw).trimmingCharacters(in: .whitespacesAndNewlines)
        return VipsError(operation: operation, message: text.isEmpty ? "unknown libvips error" : text)
    }
}

