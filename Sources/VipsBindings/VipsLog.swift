import CVips
import Synchronization

/// Where libvips' own log lines go. libvips reports through GLib's `g_log`
/// (to stderr by default) besides the error buffer; a server wants those lines
/// in its structured log instead, so the executable installs a sink.
private let sink = Mutex<(@Sendable (String) -> Void)?>(nil)

extension Vips {
    /// Routes libvips' warnings and messages to `handler` (replacing stderr).
    public static func routeLog(to handler: @escaping @Sendable (String) -> Void) {
        sink.withLock { $0 = handler }
        let levels = GLogLevelFlags(G_LOG_LEVEL_WARNING.rawValue | G_LOG_LEVEL_MESSAGE.rawValue | G_LOG_LEVEL_INFO.rawValue)
        g_log_set_handler("VIPS", levels, { _, _, message, _ in
            let text = message.map { String(cString: $0) } ?? ""
            sink.withLock { $0 }?(text)
        }, nil)
    }
}
