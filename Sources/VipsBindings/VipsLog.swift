import CVips
import Synchronization

/// A registered handler of libvips' log lines.
///
/// Handlers live in class instances, never as bare closures in the Mutex: Swift
/// 6.3 wraps a closure read out of `Mutex.withLock { $0 }` in two more
/// reabstraction thunks on every read, so each log line made the next slower
/// and, thousands of jobs later, the chain of thunks overflowed the stack.
private final class LogSink: Sendable {
    let handler: @Sendable (String) -> Void
    init(_ handler: @escaping @Sendable (String) -> Void) { self.handler = handler }
}

private let sinks = Mutex<(next: Int, all: [Int: LogSink])>((0, [:]))

extension Vips {
    /// A registered sink, for `removeLogSink`.
    public struct LogSinkToken: Sendable, Hashable {
        let id: Int
    }

    /// libvips reports through GLib's `g_log` (to stderr by default) besides the
    /// error buffer; a server wants those lines in its structured log instead.
    private static let routed: Void = {
        let levels = GLogLevelFlags(G_LOG_LEVEL_WARNING.rawValue | G_LOG_LEVEL_MESSAGE.rawValue | G_LOG_LEVEL_INFO.rawValue)
        g_log_set_handler("VIPS", levels, { _, _, message, _ in
            let text = message.map { String(cString: $0) } ?? ""
            for sink in sinks.withLock({ Array($0.all.values) }) { sink.handler(text) }
        }, nil)
    }()

    /// Sends libvips' warnings and messages to `handler` instead of stderr; every
    /// sink added sees every line until it is removed.
    @discardableResult
    public static func addLogSink(_ handler: @escaping @Sendable (String) -> Void) -> LogSinkToken {
        _ = routed
        return sinks.withLock { state in
            state.next += 1
            state.all[state.next] = LogSink(handler)
            return LogSinkToken(id: state.next)
        }
    }

    public static func removeLogSink(_ token: LogSinkToken) {
        _ = sinks.withLock { $0.all.removeValue(forKey: token.id) }
    }

    /// Logs `message` as a libvips warning, as libvips itself would; for tests of the routing.
    public static func logWarning(_ message: String) {
        kiln_vips_log_warning(message)
    }
}
