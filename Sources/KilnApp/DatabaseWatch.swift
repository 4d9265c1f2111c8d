import Foundation
import HTTPAPI
import Logging
import ServiceLifecycle

/// Watches whether PostgreSQL's socket accepts connections, every second, and
/// tells `Readiness`: while nothing listens, `/healthz` says so and API calls
/// get 503 at once instead of waiting for a pool connection that cannot come.
/// A socket-level check has no false alarms under load (the kernel accepts
/// into the backlog however busy the server is) and opens no backend; the pool
/// reconnects by itself, with backoff, once the server is back.
struct DatabaseWatch: Service {
    let endpoint: DatabaseURL.Endpoint
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let up = Self.accepts(endpoint)
            if up != readiness.isDatabaseReachable {
                readiness.setDatabaseReachable(up)
                if up { logger.notice("database reachable again") } else { logger.warning("database unreachable; answering 503 until it is back") }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Whether a connection to the endpoint is accepted within a second (refused, absent or silent: no).
    static func accepts(_ endpoint: DatabaseURL.Endpoint) -> Bool {
        switch endpoint {
        case let .unix(path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return true }  // cannot tell: do not raise an alarm
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return true }
            withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                for (index, byte) in bytes.enumerated() { buffer[index] = byte }
            }
            // Non-blocking, so a full backlog never holds one of Swift's few cooperative threads:
            // EAGAIN means a server is there, just busy.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
            }
            return connected || errno == EAGAIN
        case let .tcp(host, port):
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var result: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return false }
            defer { freeaddrinfo(result) }
            let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
            guard fd >= 0 else { return true }
            defer { close(fd) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 { return true }
            guard errno == EINPROGRESS else { return false }
            var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&waiting, 1, 1000) == 1 else { return false }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            return error == 0
        }
    }
}
