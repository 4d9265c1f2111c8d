import FFmpegBindings
import Foundation
import StageSupport

/// A video step that can take its share of a job's one decode.
protocol PassParticipant: Stage {
    /// Whether this step reads the whole stream (a ladder, a transcode): a
    /// shared pass pays only when one does; frames alone keep seeking.
    var readsWholeStream: Bool { get }

    /// Whether it reads the picture; steps that read only the sound join the
    /// pass after those that do, so the sound chosen goes with the picture.
    var readsPicture: Bool { get }

    /// Adds what this step needs to `pass`, writing into `context`'s directory;
    /// returns what finishes the step once the pass has run.
    func join(_ pass: SourcePass, source: SourceFile, context: StageContext) throws(StageError) -> () throws(StageError) -> StageValue
}

/// The shared decode of a video job: the first participating output to run
/// (the leader, an HLS ladder when there is one, so it publishes as it goes)
/// runs one `SourcePass` for every participant; the others collect their
/// share when their turn comes. Outputs of one job run one after another.
final class JointVideoPass: SharedPass, @unchecked Sendable {
    let path: String
    let participants: [String: any PassParticipant]
    private let lock = NSLock()
    private var outcomes: [String: Result<StageValue, StageError>]?
    /// Where a participant other than the leader writes until it collects.
    private var holding: [String: String] = [:]
    private var passDirectory: String?

    init(path: String, participants: [String: any PassParticipant]) {
        self.path = path
        self.participants = participants
    }

    func includes(_ output: String) -> Bool { participants[output] != nil }

    /// The step's value for `context`'s output: runs the pass on the first call.
    func value(for source: SourceFile, context: StageContext) throws(StageError) -> StageValue {
        lock.lock()
        defer { lock.unlock() }
        if outcomes == nil { outcomes = run(source, leader: context) }
        guard let outcome = outcomes?[context.outputName] else { throw StageError(code: "internal", message: "not part of the shared pass") }
        let value = try outcome.get()
        if let held = holding.removeValue(forKey: context.outputName) { try collect(held, into: context.scratchDirectory) }
        if holding.isEmpty, let passDirectory { try? FileManager.default.removeItem(atPath: passDirectory) }
        return value
    }

    private func run(_ source: SourceFile, leader: StageContext) -> [String: Result<StageValue, StageError>] {
        let directory = leader.scratchDirectory + "/.pass"
        passDirectory = directory
        // Ladders join first, so that a transcode of the same encode as a rung takes its packets;
        // steps of the sound alone last.
        func rank(_ step: any PassParticipant) -> Int { step is HLS ? 0 : step.readsPicture ? 1 : 2 }
        let order = participants.sorted { (rank($0.value), $0.key) < (rank($1.value), $1.key) }
        do {
            var finishers: [(String, () throws(StageError) -> StageValue)] = []
            try withFFmpeg("video", stop: leader.stop) { interrupt in
                let pass = try SourcePass(path: path, interrupt: interrupt)
                for (name, step) in order {
                    var context = leader
                    if name != leader.outputName {
                        context.outputName = name
                        context.scratchDirectory = directory + "/" + name
                        context.publisher = nil
                        context.reportProgress = { _ in }
                        try FileManager.default.createDirectory(atPath: context.scratchDirectory, withIntermediateDirectories: true)
                        holding[name] = context.scratchDirectory
                    }
                    finishers.append((name, try step.join(pass, source: source, context: context)))
                }
                try pass.run(maxSeconds: leader.limits.maxDurationSeconds, progress: leader.reportProgress)
            }
            var results: [String: Result<StageValue, StageError>] = [:]
            for (name, finish) in finishers {
                do { results[name] = .success(try finish()) } catch { results[name] = .failure(error) }
            }
            return results
        } catch {
            return participants.mapValues { _ in .failure(error) }
        }
    }

    /// Moves what a participant wrote into its own output's directory.
    private func collect(_ held: String, into directory: String) throws(StageError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: held) {
                try FileManager.default.moveItem(atPath: held + "/" + name, toPath: directory + "/" + name)
            }
        } catch {
            throw StageError(code: "internal", message: "collecting the shared pass's files: \(error)", retryable: true)
        }
    }
}

/// Gives a video job's outputs one decode when at least two of them start
/// with a step that can share it and one of those reads the whole stream.
struct VideoSharedDecoder: SharedDecoder {
    func decode(_ source: SourceFile, for outputs: [JobPlan.Output], limits: ProcessingLimits) throws(StageError) -> SharedDecode? {
        guard source.kind == .video else { return nil }
        var participants: [String: any PassParticipant] = [:]
        for output in outputs {
            if let step = output.steps.first?.stage as? any PassParticipant { participants[output.name] = step }
        }
        guard participants.count > 1, participants.values.contains(where: \.readsWholeStream) else { return nil }
        let leader = outputs.first { participants[$0.name] is HLS }?.name ?? outputs.first { participants[$0.name]?.readsWholeStream == true }?.name
        var shared = source
        shared.sharedPass = JointVideoPass(path: source.path, participants: participants)
        return SharedDecode(value: .source(shared), outputs: Set(participants.keys), leader: leader)
    }
}

extension PassParticipant {
    var readsPicture: Bool { true }

    /// This step's share of a joint pass, when its input carries one that includes its output.
    func sharedValue(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue? {
        guard case let .source(file) = input, let pass = file.sharedPass as? JointVideoPass, pass.includes(context.outputName) else { return nil }
        return try pass.value(for: file, context: context)
    }
}

/// A value a closure fills in later (what a shared pass hands a step: ladder facts, frames, tiles).
final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
