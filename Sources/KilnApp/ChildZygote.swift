import CSandbox
import Foundation
import Logging
import Synchronization

/// Starts `kiln serve`'s child processes (supervised workers, the upload
/// inspector) by forking them from one process of this binary that has loaded
/// its libraries and nothing else (see `zygote.c`), so that the pages the
/// dynamic linker wrote in each library are shared by every child instead of
/// written again in each: an idle worker's private memory fell from 15.5 MB to
/// 3.7 MB. A child still runs its command (`worker --supervised`, `inspect
/// --serve`) from main, with its own environment, limits and seccomp filter.
///
/// Forked workers share the zygote's address-space layout. So that a hostile
/// file cannot learn that layout by crashing worker after worker (as blind
/// return-oriented attacks do against forking servers), the supervisor retires
/// the zygote whenever a child dies by a signal, and the next one starts with
/// a new layout.
final class ChildZygote: Sendable {
    private struct Running {
        let process: Process
        let control: Int32
    }

    private let executable: String
    private let environment: [String: String]
    private let logger: Logger
    private let state = Mutex<Running?>(nil)
    /// Set when a zygote could not fork (more than one thread at its start): stop trying.
    private let unusable = Atomic<Bool>(false)

    static let timeoutMilliseconds: Int32 = 10_000

    init(executable: String, environment: [String: String], logger: Logger) {
        self.executable = executable
        self.environment = environment
        self.logger = logger
    }

    /// A child that runs `arguments` with this environment and these descriptors
    /// as its standard input and output (the caller keeps and closes its own copies).
    func fork(arguments: [String], environment: [String: String], input: Int32, output: Int32) throws -> Int32 {
        guard !unusable.load(ordering: .relaxed) else { throw POSIXError(POSIXErrorCode(rawValue: ENOTSUP) ?? .EIO) }
        return try state.withLock { running in
            if running == nil {
                do {
                    running = try start()
                } catch {
                    if (error as? POSIXError)?.code.rawValue == ENOTSUP { unusable.store(true, ordering: .relaxed) }
                    logger.warning("no zygote; starting the child afresh", metadata: ["error": "\(error)"])
                    throw error
                }
            }
            let block = environment.merging([ForkedArguments.variable: ForkedArguments.encode(arguments)]) { $1 }
                .map { "\($0.key)=\($0.value)\0" }.joined()
            var pid: Int32 = -1
            let failed = block.utf8CString.withUnsafeBufferPointer { bytes in
                kiln_zygote_fork(running!.control, bytes.baseAddress, bytes.count - 1, input, output, Self.timeoutMilliseconds, &pid)
            }
            if failed != 0 {
                logger.warning("the zygote failed; starting the child afresh", metadata: ["errno": "\(failed)"])
                stop(&running)
                throw POSIXError(POSIXErrorCode(rawValue: failed) ?? .EIO)
            }
            return pid
        }
    }

    deinit { retire() }

    /// Ends this zygote; the next child comes from a new one.
    func retire() {
        state.withLock { stop(&$0) }
    }

    private func stop(_ running: inout Running?) {
        guard let current = running else { return }
        close(current.control)
        kill(current.process.processIdentifier, SIGKILL)
        running = nil
    }

    private func start() throws -> Running {
        var ends: [Int32] = [0, 0]
        if case let failed = kiln_zygote_socketpair(&ends), failed != 0 { throw POSIXError(POSIXErrorCode(rawValue: failed) ?? .EIO) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // A child writes its own command over these (see `retitle` in zygote.c), so they make room for it.
        process.arguments = ["zygote", String(repeating: "-", count: 64)]
        process.environment = environment.merging(["KILN_ZYGOTE_CONTROL": "0"]) { $1 }
        let childEnd = FileHandle(fileDescriptor: ends[1], closeOnDealloc: true)
        process.standardInput = childEnd
        do {
            try process.run()
        } catch {
            close(ends[0])
            throw error
        }
        try? childEnd.close()
        let failed = kiln_zygote_await_ready(ends[0], Self.timeoutMilliseconds)
        guard failed == 0 else {
            close(ends[0])
            kill(process.processIdentifier, SIGKILL)
            throw POSIXError(POSIXErrorCode(rawValue: failed) ?? .EIO)
        }
        logger.debug("zygote ready", metadata: ["pid": "\(process.processIdentifier)"])
        return Running(process: process, control: ends[0])
    }
}

/// The command a forked child runs: the zygote's own argv is fixed, so the
/// arguments come in the environment, which main reads (and removes) first.
public enum ForkedArguments {
    static let variable = "KILN_FORKED_ARGUMENTS"
    static let separator: Character = "\u{1F}"

    static func encode(_ arguments: [String]) -> String { arguments.joined(separator: String(separator)) }

    /// This process's arguments when a zygote forked it, else nil.
    public static func take() -> [String]? {
        guard let value = ProcessInfo.processInfo.environment[variable] else { return nil }
        unsetenv(variable)
        return value.split(separator: separator, omittingEmptySubsequences: false).map(String.init)
    }
}

extension Kiln {
    /// The zygote that forks this server's children, or nil when it has none
    /// (everything runs in-process) or `KILN_ZYGOTE=0` says to start each afresh.
    static func zygote(for workers: WorkerPlacement, inspectorExecutable: String?, environment: [String: String],
                       logger: Logger) -> ChildZygote? {
        guard environment["KILN_ZYGOTE"] != "0" else { return nil }
        let executable: String
        if case let .supervised(worker) = workers { executable = worker } else if let inspectorExecutable { executable = inspectorExecutable } else { return nil }
        // Forked children are orphaned at birth; as their subreaper this process adopts and waits for them.
        guard kiln_zygote_become_subreaper() == 0 else { return nil }
        return ChildZygote(executable: executable, environment: environment, logger: logger)
    }
}
