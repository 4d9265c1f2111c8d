import Foundation
import HTTPAPI
import Logging
import Metrics
import PipelineEngine
import Synchronization
import VipsBindings

/// Image URL renders in child processes of the server (`kiln render --serve`,
/// confined like the job workers), one render at a time in each, so a source
/// that crashes a codec costs the renders of one child and never the API.
/// Renders wait here, in order, for a free child; a child that dies or does
/// not answer within the deadline is replaced (with the workers' backoff),
/// and its render answers `unavailable`.
final class ImageRenderPool: ImageRenderer, Sendable {
    struct Waiting {
        var line: Data
        var answer: CheckedContinuation<ImageRenderOutcome, Never>
    }

    struct Queue {
        var waiting: [Waiting] = []
        var idle: [CheckedContinuation<Waiting, Never>] = []
    }

    let executable: String
    let environment: [String: String]
    let zygote: ChildZygote?
    let deadline: Duration
    let logger: Logger
    private let queue = Mutex(Queue())

    init(children: Int, executable: String, environment: [String: String], zygote: ChildZygote?, deadline: Duration, logger: Logger) {
        self.executable = executable
        self.environment = environment
        self.zygote = zygote
        self.deadline = deadline
        self.logger = logger
        // Each slot is a task of its own, for the life of the server.
        for slot in 0..<max(1, children) {
            Task { [self] in await serveSlot(slot) }
        }
    }

    func render(source: String, operations: JSONValue, directory: String) async -> ImageRenderOutcome {
        let line = JSONValue.object(["source": .string(source), "operations": operations, "directory": .string(directory)]).encoded()
            + Data("\n".utf8)
        return await withCheckedContinuation { answer in
            let request = Waiting(line: line, answer: answer)
            let slot: CheckedContinuation<Waiting, Never>? = queue.withLock { queue in
                if queue.idle.isEmpty {
                    queue.waiting.append(request)
                    return nil
                }
                return queue.idle.removeFirst()
            }
            slot?.resume(returning: request)
        }
    }

    private func next() async -> Waiting {
        await withCheckedContinuation { slot in
            let request: Waiting? = queue.withLock { queue in
                if queue.waiting.isEmpty {
                    queue.idle.append(slot)
                    return nil
                }
                return queue.waiting.removeFirst()
            }
            if let request { slot.resume(returning: request) }
        }
    }

    /// One child at a time, each taking renders until it dies; then the next, after a backoff.
    private func serveSlot(_ slot: Int) async {
        var backoff = RestartBackoff()
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let answers = AnswerLine()
            let child: ChildProcess
            do {
                child = try ChildProcess(executable: executable, arguments: ["render", "--serve"], environment: environment, zygote: zygote) {
                    descriptor, _ in
                    PipeLines.read(descriptor, thread: "kiln-render-\(slot)-output", line: { answers.give($0) }, ended: { answers.end() })
                }
            } catch {
                logger.error("an image render process could not start", metadata: ["error": "\(error)"])
                await backoff.wait(afterRunning: .zero)
                continue
            }
            while true {
                let request = await next()
                guard child.send(request.line) else {
                    request.answer.resume(returning: .unavailable("the render process had ended"))
                    break
                }
                let answer = await answers.take(within: deadline)
                guard let answer else {
                    request.answer.resume(returning: .unavailable("the render process crashed or did not answer within \(deadline)"))
                    break
                }
                request.answer.resume(returning: answer)
            }
            child.signal(SIGKILL)
            let exit = await child.exited()
            if case .signaled = exit { zygote?.retire() }
            Counter(label: WorkerSupervisor.restartCounter, dimensions: [("reason", "renderer")]).increment()
            logger.error("an image render process ended; starting another", metadata: ["exit": "\(exit)"])
            await backoff.wait(afterRunning: ContinuousClock.now - started)
        }
    }
}

/// The answers of one render child, one at a time: the line it wrote, or nil
/// once its output ended (it died) or the deadline passed.
final class AnswerLine: Sendable {
    private let state = Mutex<(lines: [Data], ended: Bool, waiter: CheckedContinuation<Data?, Never>?)>(([], false, nil))

    func give(_ line: Data) {
        let waiter = state.withLock { state in
            guard let waiter = state.waiter else {
                state.lines.append(line)
                return nil as CheckedContinuation<Data?, Never>?
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: line)
    }

    func end() {
        let waiter = state.withLock { state in
            state.ended = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    func take(within deadline: Duration) async -> ImageRenderOutcome? {
        let timer = Task { [self] in
            try await Task.sleep(for: deadline)
            end()
        }
        defer { timer.cancel() }
        let line: Data? = await withCheckedContinuation { continuation in
            let ready: Data?? = state.withLock { state in
                if !state.lines.isEmpty { return .some(state.lines.removeFirst()) }
                if state.ended { return .some(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        guard let line, let json = try? JSONValue.decode(line) else { return nil }
        return ImageRenderOutcome(json: json)
    }
}

/// The child's side: `kiln render --serve`. One render at a time, answered
/// on standard output, until standard input closes (the server is gone).
public enum ImageRenderServer {
    public static func serve(limits: ProcessingLimits) async {
        // One render at a time, one child per core: libvips at one thread per operation, as a worker slot
        // runs it. Its default (a thread per core) put 2 x 2 threads on 2 cores, and 50 % more context switches.
        try? Vips.setThreadsPerOperation(1)
        let renderer = LocalImageRenderer(run: LocalRun(limits: limits, pool: BlockingPool(threads: 1)))
        let requests = AsyncStream<Data> { continuation in
            let thread = Thread {
                PipeLines.forEach(STDIN_FILENO) { continuation.yield($0) }
                continuation.finish()
            }
            thread.name = "kiln-render-requests"
            thread.start()
        }
        for await line in requests {
            guard let request = try? JSONValue.decode(line), let source = request["source"]?.stringValue,
                  let operations = request["operations"], let directory = request["directory"]?.stringValue else {
                FileHandle.standardOutput.write(ImageRenderOutcome.failed(code: "invalid_request", message: "a malformed render request").json.encoded()
                    + Data("\n".utf8))
                continue
            }
            let outcome = await renderer.render(source: source, operations: operations, directory: directory)
            FileHandle.standardOutput.write(outcome.json.encoded() + Data("\n".utf8))
        }
    }
}
