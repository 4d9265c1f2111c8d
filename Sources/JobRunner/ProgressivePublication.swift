import Foundation
import JobStore
import Logging
import PipelineEngine
import Storage

/// What happens to a running output, in the order it happened: a progress
/// tick, or files a stage published before it completed.
enum RunningOutputEvent: Sendable {
    case tick
    case published([StagedFile])
}

/// A file snapshotted for publication: `name` in the output, `path` a staged
/// copy (a hard link where the file system allows) that `put` consumes.
struct StagedFile: Sendable {
    var file: ProducedFile
    var path: String
}

/// The stage's side of progressive publication: snapshots the files at once on
/// the stage's thread (the muxer rewrites its playlists later), then hands them
/// to the output's recorder, which uploads them in order.
struct ProgressivePublication: ProgressivePublisher {
    let directory: String
    let staging: String
    let events: AsyncStream<RunningOutputEvent>.Continuation
    let logger: Logger

    func publish(_ files: [ProducedFile]) {
        var staged: [StagedFile] = []
        for file in files {
            let source = directory + "/" + file.name
            let copy = staging + "/progressive-" + UUID().uuidString
            if link(source, copy) != 0 {
                do {
                    try FileManager.default.copyItem(atPath: source, toPath: copy)
                } catch {
                    // Later files (the playlists) would name this one: publish none of the batch.
                    logger.warning("could not stage \(file.name) for publication", metadata: ["error": "\(error)"])
                    staged.forEach { try? FileManager.default.removeItem(atPath: $0.path) }
                    return
                }
            }
            staged.append(StagedFile(file: file, path: copy))
        }
        events.yield(.published(staged))
    }
}

/// Writes a running output's state: progress at most once a second, and the
/// files a stage publishes while it runs (uploaded in order, then listed in the
/// output, so a listed file is always readable). One loop does both, so the
/// two never overwrite each other's view of the output.
struct RunningOutputRecorder: Sendable {
    let jobID: String
    let outputName: String
    let leaseToken: Int64
    let store: JobStore
    let blobs: any BlobStore
    let stop: StopToken
    let logger: Logger

    /// What the recorder published: the output's state as last written.
    struct Outcome: Sendable {
        var state: OutputState
        /// Files already uploaded, by name, as uploaded.
        var published: [String: ProducedFile]
        /// How many times each name was published again (its latest key's revision).
        var revisions: [String: Int]
    }

    func record(_ events: AsyncStream<RunningOutputEvent>, board: ProgressBoard, states: [String: OutputState]) async -> Outcome {
        var states = states
        var state = states[outputName] ?? OutputState(status: .running)
        var published: [String: ProducedFile] = [:]
        var revisions: [String: Int] = [:]
        var broken = false
        for await event in events {
            switch event {
            case .tick:
                guard let progress = board.take() else { continue }
                state.progress = progress
            case let .published(files):
                defer { files.forEach { try? FileManager.default.removeItem(atPath: $0.path) } }
                // A failed upload leaves a gap a later playlist would name: stop publishing early, the output still completes whole.
                guard !broken, !stop.isStopped else { continue }
                for staged in files {
                    let path = outputName + "/" + staged.file.name
                    // A playlist shorter than the one listed (an earlier attempt's) waits until it has caught up.
                    if let length = staged.file.duration, let listed = state.files.first(where: { $0.path == path })?.duration, length < listed {
                        continue
                    }
                    let revision = published[staged.file.name] == nil ? 0 : (revisions[staged.file.name] ?? 0) + 1
                    let key = JobFiles.key(jobID: jobID, leaseToken: leaseToken, path: path, revision: revision)
                    do {
                        try await blobs.put(key: key, file: staged.path)
                    } catch {
                        logger.warning("progressive publication stopped", metadata: ["file": "\(staged.file.name)", "error": "\(error)"])
                        broken = true
                        break
                    }
                    published[staged.file.name] = staged.file
                    revisions[staged.file.name] = revision
                    state.files.removeAll { $0.path == path }
                    state.files.append(OutputFile(path: path, key: key, producedFile: staged.file))
                }
                if broken { continue }
                if state.playableAt == nil, files.contains(where: { $0.file.publication == .playbackEntry }) {
                    state.playableAt = Date()
                }
            }
            states[outputName] = state
            do {
                if try await !store.updateOutput(jobID: jobID, token: leaseToken, name: outputName, state: state,
                                                 jobProgress: JobLifecycle.progress(of: states)) {
                    stop.stop(.leaseLost)
                }
            } catch {
                logger.warning("could not record the output's progress", metadata: ["error": "\(error)"])
            }
        }
        return Outcome(state: state, published: published, revisions: revisions)
    }
}
