import Foundation
import HTTPAPI
import Logging
import Metrics
import PipelineEngine
import Synchronization

/// Upload inspection (libvips reading an image's header, FFmpeg probing a
/// stream, which decodes a few frames) in a child process of the server
/// (`kiln inspect --serve`), so a codec that crashes on an uploaded file takes
/// down that child, never the API. Requests and answers are JSON lines on the
/// child's standard input and output. While no child runs (it died and waits
/// out its backoff), or when it does not answer in time, an upload is recorded
/// without facts, as for a file whose headers cannot be read; the job that
/// processes it reports what is wrong.
final class SupervisedInspection: MediaInspector, Sendable {
    struct State {
        var child: ChildProcess?
        var startedAt = ContinuousClock.now
        var pending: [Int: CheckedContinuation<MediaFacts, Never>] = [:]
        var next = 0
        var backoff = RestartBackoff()
    }

    let executable: String
    let environment: [String: String]
    let zygote: ChildZygote?
    let logger: Logger
    private let state = Mutex(State())

    init(executable: String, environment: [String: String], zygote: ChildZygote? = nil, logger: Logger) {
        self.executable = executable
        self.environment = environment
        self.zygote = zygote
        self.logger = logger
    }

    func start() {
        do {
            let child = try ChildProcess(executable: executable, arguments: ["inspect", "--serve"], environment: environment, zygote: zygote) {
                [self] descriptor, _ in read(from: descriptor)
            }
            state.withLock { state in
                state.child = child
                state.startedAt = .now
            }
            // Reaped by its termination handler; the exit is seen as end-of-file by `read`.
            Task { [zygote] in if case .signaled = await child.exited() { zygote?.retire() } }
        } catch {
            logger.error("the inspector process could not start", metadata: ["error": "\(error)"])
            restartLater()
        }
    }

    func inspect(path: String, kind: MediaKind) async -> MediaFacts {
        let request: (id: Int, child: ChildProcess?) = state.withLock { state in
            state.next += 1
            return (state.next, state.child)
        }
        guard let child = request.child else { return MediaFacts() }
        let line = JSONValue.object(["id": .number(Double(request.id)), "path": .string(path), "kind": .string(kind.rawValue)])
        let timeout = Task { [self] in
            try await Task.sleep(for: .seconds(MediaInspection.inspectionSeconds + 2))
            resolve(request.id, MediaFacts())
        }
        defer { timeout.cancel() }
        return await withCheckedContinuation { continuation in
            state.withLock { $0.pending[request.id] = continuation }
            if !child.send(line.encoded() + Data("\n".utf8)) { resolve(request.id, MediaFacts()) }
        }
    }

    private func resolve(_ id: Int, _ facts: MediaFacts) {
        state.withLock { $0.pending.removeValue(forKey: id) }?.resume(returning: facts)
    }

    /// Answers until the child's output ends; then every waiting request gets no facts and a new child starts.
    private func read(from descriptor: Int32) {
        PipeLines.read(descriptor, thread: "kiln-inspector-output", line: { [self] line in
            guard let answer = try? JSONValue.decode(line), let id = answer["id"]?.intValue else { return }
            resolve(id, MediaFacts(width: answer["width"]?.intValue, height: answer["height"]?.intValue,
                                   duration: answer["duration"]?.doubleValue))
        }, ended: { [self] in
            let waiting = state.withLock { state in
                defer { state.pending = [:]; state.child = nil }
                return Array(state.pending.values)
            }
            for continuation in waiting { continuation.resume(returning: MediaFacts()) }
            Counter(label: WorkerSupervisor.restartCounter, dimensions: [("reason", "inspector")]).increment()
            logger.error("the inspector process ended; starting another", metadata: ["uploadsWithoutFacts": "\(waiting.count)"])
            restartLater()
        })
    }

    private func restartLater() {
        let delay = state.withLock { state in state.backoff.next(afterRunning: ContinuousClock.now - state.startedAt) }
        Task { [self] in
            try? await Task.sleep(for: .seconds(delay))
            start()
        }
    }
}

/// The child's side: `kiln inspect --serve`.
public enum InspectionServer {
    /// Answers requests from standard input until it closes (the server is gone), two at a time.
    public static func serve() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                let work = DispatchQueue(label: "kiln-inspect", attributes: .concurrent)
                let slots = DispatchSemaphore(value: 2)
                let group = DispatchGroup()
                let writing = NSLock()
                PipeLines.forEach(STDIN_FILENO) { line in
                    guard let request = try? JSONValue.decode(line), let id = request["id"], let path = request["path"]?.stringValue,
                          let kind = request["kind"]?.stringValue.flatMap(MediaKind.init(rawValue:)) else { return }
                    slots.wait()
                    work.async(group: group) {
                        defer { slots.signal() }
                        let facts = MediaInspection.inspectBlocking(path: path, kind: kind)
                        var answer: [String: JSONValue] = ["id": id]
                        if let width = facts.width { answer["width"] = .number(Double(width)) }
                        if let height = facts.height { answer["height"] = .number(Double(height)) }
                        if let duration = facts.duration { answer["duration"] = .number(duration) }
                        let bytes = JSONValue.object(answer).encoded() + Data("\n".utf8)
                        writing.lock()
                        FileHandle.standardOutput.write(bytes)
                        writing.unlock()
                        MallocTuning.returnFreedMemory()
                    }
                }
                group.wait()
                done.resume()
            }
            thread.name = "kiln-inspect-requests"
            thread.start()
        }
    }
}
