import CFFmpeg
import CFFmpegShims
import Synchronization

/// Where FFmpeg's log lines go instead of stderr. FFmpeg's log is process-wide,
/// so sinks are too: each one added sees every line until it is removed.
private let sinks = Mutex<(next: Int, all: [Int: @Sendable (FFmpeg.LogLevel, String) -> Void])>((0, [:]))

extension FFmpeg {
    public enum LogLevel: Sendable {
        case error, warning, info, debug

        init(_ level: Int32) {
            switch level {
            case ...AV_LOG_ERROR: self = .error
            case ...AV_LOG_WARNING: self = .warning
            case ...AV_LOG_INFO: self = .info
            default: self = .debug
            }
        }
    }

    /// A registered sink, for `removeLogSink`.
    public struct LogSinkToken: Sendable, Hashable {
        let id: Int
    }

    private static let routed: Void = {
        start()
        kiln_av_log_route { level, line in
            guard let line else { return }
            let text = String(cString: line)
            for sink in sinks.withLock({ Array($0.all.values) }) { sink(LogLevel(level), text) }
        }
    }()

    /// Sends FFmpeg's log lines (errors and above, see `start()`) to `handler`.
    @discardableResult
    public static func addLogSink(_ handler: @escaping @Sendable (LogLevel, String) -> Void) -> LogSinkToken {
        _ = routed
        return sinks.withLock { state in
            state.next += 1
            state.all[state.next] = handler
            return LogSinkToken(id: state.next)
        }
    }

    public static func removeLogSink(_ token: LogSinkToken) {
        _ = sinks.withLock { $0.all.removeValue(forKey: token.id) }
    }
}
