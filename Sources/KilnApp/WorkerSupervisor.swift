import CSandbox
import Foundation
import JobStore
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// `kiln serve`'s workers: child processes of the same binary
/// (`kiln worker --supervised`), so that a codec crashing on a hostile file
/// takes down one worker, never the API. Each child that dies is started
/// again with backoff, and the job it held goes back to the queue at once
/// under the lease rules (a job whose attempts keep killing their worker ends
/// `worker_crashed`).
struct WorkerSupervisor: Service {
    let executable: String
    let plan: WorkerProcessPlan
    /// The children alive now; the server's listener relays the queue's notices to them.
    let children: RunningChildren
    let store: JobStore
    let metrics: WorkerMetricsBoard
    /// How long children may drain on shutdown before they are killed.
    let drainSeconds: Double
    /// Forks the workers when it can; nil starts each afresh.
    let zygote: ChildZygote?
    let logger: Logger

    static let restartCounter = "kiln_worker_process_exits_total"

    func run() async throws {
        logger.info("starting worker processes", metadata: ["processes": "\(plan.children.count)", "executable": "\(executable)"])
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup(of: Void.self) { group in
                    for child in plan.children {
                        group.addTask { await supervise(child, children: children) }
                    }
                }
            } onGracefulShutdown: {
                children.stopAll(signal: SIGTERM)
                Task {
                    // A child drains its jobs on SIGTERM; one still there well after that is stuck.
                    try? await Task.sleep(for: .seconds(drainSeconds + 15))
                    children.stopAll(signal: SIGKILL)
                }
            }
        } onCancel: {
            children.stopAll(signal: SIGKILL)
        }
        logger.info("worker processes stopped")
    }

    /// Keeps one child slot filled until shutdown.
    private func supervise(_ slot: WorkerProcessPlan.Child, children: RunningChildren) async {
        var backoff = RestartBackoff()
        var generation = 0
        while !children.isStopping && !Task.isCancelled {
            generation += 1
            let owner = "\(slot.ownerPrefix).\(generation)"
            let started = ContinuousClock.now
            let exit: ChildExit
            do {
                let child = try ChildProcess(executable: executable, arguments: ["worker", "--supervised"],
                                             environment: slot.environment.merging(["KILN_WORKER_OWNER": owner]) { $1 }, zygote: zygote,
                                             readOutput: { [metrics] descriptor, child in metrics.read(from: descriptor, child: child) })
                children.add(child)
                exit = await child.exited()
                children.remove(child)
            } catch {
                exit = .couldNotStart("\(error)")
            }
            if children.isStopping && exit.isClean { break }
            // Forked workers share the zygote's layout: after a crash the next ones get a new one.
            if case .signaled = exit { zygote?.retire() }
            Counter(label: Self.restartCounter, dimensions: [("reason", exit.reason)]).increment()
            logger.error("a worker process ended; starting another", metadata: [
                "slot": "\(slot.index)", "owner": "\(owner)", "exit": "\(exit)", "backoffSeconds": "\(backoff.seconds)",
            ])
            // Its jobs go back to the queue now, not when their leases run out.
            do {
                let requeued = try await store.expireLeases(ownedBy: owner)
                if requeued > 0 { try await store.reapExpiredLeases() }
            } catch {
                logger.warning("could not hand back a dead worker's jobs; the reaper will", metadata: ["error": "\(error)"])
            }
            if children.isStopping { break }
            await backoff.wait(afterRunning: ContinuousClock.now - started)
        }
    }

}

/// How `kiln serve` splits its job slots over worker processes, and what each is told.
struct WorkerProcessPlan: Sendable {
    struct Child: Sendable {
        var index: Int
        var environment: [String: String]
        /// Its `lease_owner` is this plus a generation number.
        var ownerPrefix: String
    }

    var children: [Child]

    init(configuration: KilnConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let processes = configuration.workerProcesses.count
        let slots = max(configuration.worker.concurrency, processes)
        var videoLeft = configuration.worker.videoConcurrency
        let host = ProcessInfo.processInfo.hostName
        let parent = ProcessInfo.processInfo.processIdentifier
        children = (0..<processes).map { index in
            // Slots spread evenly: with one slot per process (the default) a crash costs one job.
            let concurrency = slots / processes + (index < slots % processes ? 1 : 0)
            let video = min(videoLeft, concurrency)
            videoLeft -= video
            var env = environment
            env["KILN_WORKER_CONCURRENCY"] = "\(concurrency)"
            env["KILN_VIDEO_CONCURRENCY"] = "\(video)"
            // libvips threads as if the jobs shared one process: the cores are shared all the same.
            env["KILN_VIPS_THREADS_PER_OPERATION"] = "\(configuration.worker.vipsThreadsPerOperation)"
            // Claims, heartbeats and progress, the reaper (the queue's notices come from the server).
            env["KILN_DB_POOL_SIZE"] = "\(concurrency + 2)"
            env.merge(Self.sandboxEnvironment(configuration)) { $1 }
            return Child(index: index, environment: env, ownerPrefix: "\(host):\(parent)/w\(index)")
        }
    }
}

extension WorkerProcessPlan {
    /// The limits a child sets on itself, as the environment tells it.
    static func sandboxEnvironment(_ configuration: KilnConfiguration) -> [String: String] {
        [
            "KILN_WORKER_ADDRESS_SPACE_MB": configuration.workerProcesses.limits.addressSpaceBytes.map { "\($0 >> 20)" } ?? "0",
            "KILN_WORKER_MAX_FILE_MB": configuration.workerProcesses.limits.maxFileBytes.map { "\($0 >> 20)" } ?? "0",
            "KILN_WORKER_SECCOMP": configuration.workerProcesses.limits.seccomp ? "1" : "0",
            // Swift's crash backtracer runs a helper program, which the seccomp filter refuses; without
            // it a fault ends the child at once, and the supervisor's log says which signal.
            "SWIFT_BACKTRACE": "enable=no",
        ]
    }
}

/// How a child ended.
enum ChildExit: Sendable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)
    case couldNotStart(String)

    var isClean: Bool { if case .exited(0) = self { true } else { false } }

    var reason: String {
        switch self {
        case .exited(0): "exit"
        case .exited: "error"
        case let .signaled(signal): signal == SIGKILL ? "killed" : "crash"
        case .couldNotStart: "spawn"
        }
    }

    var description: String {
        switch self {
        case let .exited(code): "exited with status \(code)"
        case let .signaled(signal): "killed by signal \(signal) (\(String(cString: strsignal(signal))))"
        case let .couldNotStart(why): "could not start: \(why)"
        }
    }
}

/// One child process. Its standard input is a pipe whose write end only this
/// process holds: when the supervisor dies, however it dies, the child reads
/// end-of-file and shuts down (`WorkerSandbox.stopWhenSupervisorGoes`).
final class ChildProcess: @unchecked Sendable {
    /// Nil for a worker forked by the zygote, which a thread of its own waits for.
    private let process: Process?
    let pid: Int32
    /// The write end of the child's standard input; -1 once closed.
    private let lifeline: Mutex<Int32>
    private let ended: ExitLatch

    /// `readOutput`: given the read end of the child's standard output (it is
    /// this process's own output otherwise), and this child's identity.
    /// `zygote`: forks the child from there when it can
    /// (the executable must be the zygote's own), else the executable is started afresh.
    init(executable: String, arguments: [String], environment: [String: String], zygote: ChildZygote? = nil,
         readOutput: (@Sendable (Int32, ObjectIdentifier) -> Void)? = nil) throws {
        let metrics = readOutput
        let ended = ExitLatch()
        self.ended = ended
        var ends: [Int32] = [0, 0]
        // Close-on-exec, so no other child inherits this child's lifeline and keeps it open.
        if case let failed = kiln_sandbox_pipe(&ends), failed != 0 { throw POSIXError(POSIXErrorCode(rawValue: failed) ?? .EIO) }
        lifeline = Mutex(ends[1])
        var output: [Int32] = [0, 0]
        if metrics != nil, case let failed = kiln_sandbox_pipe(&output), failed != 0 {
            close(ends[0])
            close(ends[1])
            throw POSIXError(POSIXErrorCode(rawValue: failed) ?? .EIO)
        }
        if let zygote, metrics != nil, let forked = try? zygote.fork(arguments: arguments, environment: environment, input: ends[0], output: output[1]) {
            process = nil
            pid = forked
            close(ends[0])
            close(output[1])
            let waiter = Thread {
                var status: Int32 = 0
                let failed = kiln_wait_for_child(forked, &status)
                // A status's low 7 bits are the signal that ended it, 0 when it exited.
                ended.open(failed != 0 ? .exited(-1) : status & 0x7f == 0 ? .exited((status >> 8) & 0xff) : .signaled(status & 0x7f))
            }
            waiter.name = "kiln-child-\(forked)"
            waiter.start()
            readOutput?(output[0], ObjectIdentifier(self))
            return
        }
        let process = Process()
        self.process = process
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        let readEnd = FileHandle(fileDescriptor: ends[0], closeOnDealloc: true)
        process.standardInput = readEnd
        let outputWriteEnd = metrics != nil ? FileHandle(fileDescriptor: output[1], closeOnDealloc: true) : nil
        if let outputWriteEnd { process.standardOutput = outputWriteEnd }
        process.terminationHandler = { [ended] process in
            ended.open(process.terminationReason == .uncaughtSignal
                ? .signaled(process.terminationStatus) : .exited(process.terminationStatus))
        }
        do {
            try process.run()
        } catch {
            close(ends[1])
            if metrics != nil { close(output[0]) }
            throw error
        }
        pid = process.processIdentifier
        try? readEnd.close()
        // Only the child holds the write end now: its exit ends the reader.
        try? outputWriteEnd?.close()
        readOutput?(output[0], ObjectIdentifier(self))
    }

    /// Writes to the child's standard input (the lifeline) whole; false once the child is gone.
    /// (The server ignores SIGPIPE: a write to a dead child fails with EPIPE.)
    func send(_ data: Data) -> Bool {
        lifeline.withLock { descriptor in
            guard descriptor >= 0 else { return false }
            return data.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 { return false }
                    offset += written
                }
                return true
            }
        }
    }

    /// Writes one short line to the child's standard input if the pipe has room now,
    /// else drops it: a stopped or wedged child must not block the server's listener.
    /// (A write of at most PIPE_BUF bytes is whole or nothing, so no line arrives cut.)
    @discardableResult
    func sendIfRoom(_ line: Data) -> Bool {
        precondition(line.count <= Int(PIPE_BUF))
        return lifeline.withLock { descriptor in
            guard descriptor >= 0 else { return false }
            var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            guard poll(&ready, 1, 0) == 1, ready.revents & Int16(POLLOUT) != 0 else { return false }
            return line.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress!, $0.count) } == line.count
        }
    }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the child to end.
    func exited() async -> ChildExit {
        let exit = await ended.wait()
        lifeline.withLock { descriptor in
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
        }
        return exit
    }
}

/// A child's exit, for one waiter that may come before or after it.
final class ExitLatch: Sendable {
    private let state = Mutex<(exit: ChildExit?, waiter: CheckedContinuation<ChildExit, Never>?)>((nil, nil))

    func open(_ exit: ChildExit) {
        let waiter = state.withLock { state in
            state.exit = exit
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: exit)
    }

    func wait() async -> ChildExit {
        await withCheckedContinuation { continuation in
            let already = state.withLock { state in
                if state.exit == nil { state.waiter = continuation }
                return state.exit
            }
            if let already { continuation.resume(returning: already) }
        }
    }
}

/// The children alive now, for shutdown.
final class RunningChildren: Sendable {
    private let state = Mutex<(children: [ObjectIdentifier: ChildProcess], stopping: Bool)>(([:], false))

    var isStopping: Bool { state.withLock { $0.stopping } }

    func add(_ child: ChildProcess) {
        let stopping = state.withLock { state in
            state.children[ObjectIdentifier(child)] = child
            return state.stopping
        }
        if stopping { child.signal(SIGTERM) }
    }

    func remove(_ child: ChildProcess) { state.withLock { _ = $0.children.removeValue(forKey: ObjectIdentifier(child)) } }

    /// Writes `line` to every child's standard input where it fits now (`sendIfRoom`).
    func sendIfRoom(_ line: Data) {
        let children = state.withLock { Array($0.children.values) }
        for child in children { child.sendIfRoom(line) }
    }

    func stopAll(signal: Int32) {
        let children = state.withLock { state in
            state.stopping = true
            return Array(state.children.values)
        }
        for child in children { child.signal(signal) }
    }
}
