import CSandbox
import Foundation
import JobRunner
import Logging

/// What a worker process that `kiln serve` supervises does to itself before it
/// takes work. A codec bug that a hostile file triggers then meets an address
/// space limit (a runaway allocation fails instead of swapping the host), no
/// core dump (nothing of another tenant's file lands on disk), a file-size
/// limit, no way to gain privileges, and a seccomp filter that closes what a
/// worker never needs (see sandbox.c).
public enum WorkerSandbox {
    public struct Limits: Sendable, Equatable {
        /// RLIMIT_AS; nil leaves it.
        public var addressSpaceBytes: UInt64?
        /// RLIMIT_FSIZE; nil leaves it.
        public var maxFileBytes: UInt64?
        public var seccomp: Bool

        public init(addressSpaceBytes: UInt64?, maxFileBytes: UInt64?, seccomp: Bool) {
            self.addressSpaceBytes = addressSpaceBytes
            self.maxFileBytes = maxFileBytes
            self.seccomp = seccomp
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Applies `limits` to this process, or throws: a supervised worker that
    /// cannot confine itself must not take work.
    public static func apply(_ limits: Limits, role: String = "worker", logger: Logger) throws {
        if case let failed = kiln_sandbox_limits(limits.addressSpaceBytes ?? 0, limits.maxFileBytes ?? 0), failed != 0 {
            throw Failure(description: "setrlimit failed: \(String(cString: strerror(failed)))")
        }
        if case let failed = kiln_sandbox_no_new_privs(), failed != 0 {
            throw Failure(description: "PR_SET_NO_NEW_PRIVS failed: \(String(cString: strerror(failed)))")
        }
        var denied: Int32 = 0
        if limits.seccomp, case let failed = kiln_sandbox_seccomp(&denied), failed != 0 {
            throw Failure(description: "the seccomp filter could not be installed: \(String(cString: strerror(-failed)))")
        }
        logger.info("\(role) process confined", metadata: [
            "addressSpaceMB": "\(limits.addressSpaceBytes.map { "\($0 >> 20)" } ?? "unlimited")",
            "maxFileMB": "\(limits.maxFileBytes.map { "\($0 >> 20)" } ?? "unlimited")",
            "coreDumps": "off", "noNewPrivileges": "on",
            "seccomp": "\(limits.seccomp ? "\(denied) rules" : "off")",
        ])
    }

    /// A supervised worker outlives nothing: when its supervisor goes (even by
    /// SIGKILL) the pipe on its standard input closes, and the worker shuts
    /// down as on SIGTERM (finishing or handing back its jobs). Until then that
    /// pipe brings the queue's notices its supervisor relays (`QueueNoticeLine`),
    /// returned here for `WorkerService.notices`.
    public static func stopWhenSupervisorGoes() -> WorkerService.QueueNotices {
        let relay = WorkerService.QueueNotices.relay()
        let thread = Thread {
            PipeLines.forEach(STDIN_FILENO) { line in
                if let payload = QueueNoticeLine.decode(line) { relay.give(payload) }
            }
            kill(getpid(), SIGTERM)
        }
        thread.name = "kiln-supervisor-watch"
        thread.start()
        return relay.notices
    }

    /// For the test-only `crash` operation.
    static func crash(signal: String) -> Never {
        if signal == "abort" { abort() }
        kiln_sandbox_crash_segv()
        abort()
    }
}
