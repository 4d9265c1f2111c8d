import Foundation
import Logging

/// Each connection, upload being spooled and stored object being served holds a
/// file descriptor, and the usual soft limit (1024) would turn a burst of
/// concurrent uploads into refused connections. At start-up the soft limit is
/// raised to the hard one; when even that is low, the log says so.
public enum OpenFileLimit {
    /// Below this many descriptors a server under load will run out.
    static let comfortable: rlim_t = 16_384
    /// Glibc's `RLIMIT_NOFILE` is an enum case; the functions take its raw value.
    public static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

    /// Raises the soft limit to the hard one; returns (before, after).
    @discardableResult
    public static func raise(logger: Logger) -> (before: Int, after: Int) {
        var limit = rlimit()
        guard getrlimit(Self.resource, &limit) == 0 else {
            logger.warning("could not read the open-file limit", metadata: ["errno": "\(errno)"])
            return (0, 0)
        }
        let before = limit.rlim_cur
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Self.resource, &raised) == 0 {
                limit = raised
                logger.info("open-file limit raised", metadata: ["from": "\(before)", "to": "\(raised.rlim_cur)"])
            } else {
                logger.warning("could not raise the open-file limit", metadata: ["limit": "\(before)", "hard": "\(limit.rlim_max)", "errno": "\(errno)"])
            }
        }
        if limit.rlim_cur < comfortable {
            logger.warning("the open-file limit is low for a server; raise the hard limit (ulimit -Hn, LimitNOFILE= in systemd)",
                           metadata: ["limit": "\(limit.rlim_cur)"])
        }
        return (Int(clamping: before), Int(clamping: limit.rlim_cur))
    }
}
