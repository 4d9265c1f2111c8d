import Foundation

/// A notice of the queue's channel as `kiln serve` relays it to a worker
/// process: one line on the pipe that is the worker's standard input (its
/// lifeline), so the workers of a server hold no LISTEN of their own.
enum QueueNoticeLine {
    private static let prefix = "notice "

    /// Nil for a payload that would not stay one short line (Kiln sends none such).
    static func encode(_ payload: String) -> Data? {
        guard !payload.contains(where: \.isNewline) else { return nil }
        let line = Data((prefix + payload + "\n").utf8)
        return line.count <= Int(PIPE_BUF) ? line : nil
    }

    /// The payload of a line (without its newline); nil for anything else.
    static func decode(_ line: Data) -> String? {
        guard let text = String(data: line, encoding: .utf8), text.hasPrefix(prefix) else { return nil }
        return String(text.dropFirst(prefix.count))
    }
}
