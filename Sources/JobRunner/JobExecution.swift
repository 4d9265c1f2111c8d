import Foundation
import JobStore
import Logging
import Metrics
import PipelineEngine
import Storage

/// One attempt at one claimed job: fetch the input, run each output's steps,
/// publish each output when it is complete, then end the attempt. A heartbeat
/// runs beside it; losing the lease or a cancel sets the stop token.
struct JobExecution: Sendable {
    let claim: ClaimedJob
    /// The service that claimed the job: store, blob store, registry, runner, configuration.
    let worker: WorkerService
    let logger: Logger
    let stop: StopToken

    private var store: JobStore { worker.store }
    private var blobs: any BlobStore { worker.blobs }
    private var configuration: WorkerConfiguration { worker.configuration }

    func run() async {
        let started = ContinuousClock.now
        let scratch = configuration.scratchDirectory + "/\(claim.id)-\(claim.attempt)"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await heartbeat() }
            let outcome = await execute(scratch: scratch)
            await conclude(outcome)
            group.cancelAll()
        }
        let seconds = (ContinuousClock.now - started).seconds
        Timer(label: "kiln_job_attempt_seconds").recordSeconds(seconds)
    }

    /// Extends the lease until cancelled; stops the job when the lease is lost or
    /// a cancel is requested, or when the database is unreachable for a whole lease.
    private func heartbeat() async {
        var lastSuccess = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(configuration.heartbeatSeconds))
            if Task.isCancelled { return }
            do {
                switch try await store.heartbeat(jobID: claim.id, token: claim.leaseToken, leaseSeconds: configuration.leaseSeconds) {
                case .held: lastSuccess = .now
                case .cancelRequested: stop.stop(.canceled)
                case .lost: stop.stop(.leaseLost)
                }
            } catch {
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
                if (ContinuousClock.now - lastSuccess).seconds > configuration.leaseSeconds { stop.stop(.leaseLost) }
            }
        }
    }

    /// A run that got through every output; `recorded` when the last output's
    /// write also ended the job (then `files` are all it points at).
    struct Completion {
        var recorded = false
        var files: Set<String> = []
    }

    private func execute(scratch: String) async -> Result<Completion, StageError> {
        let plan: JobPlan
        do {
            plan = try JobPlan(stored: claim.plan, input: claim.inputKind, registry: worker.registry)
        } catch {
            return .failure(StageError(code: "invalid_plan", message: "stored plan no longer valid: \(error)"))
        }
        var phase = PhaseClock()
        defer { phase.end("prepare") }
        if let earlier = claim.reusable {
            do {
                switch try await WorkReuse(store: store, blobs: blobs, logger: logger).take(from: earlier, for: claim) {
                case let .reused(files):
                    logger.info("identical work reused", metadata: ["reusedFrom": .string(earlier)])
                    Counter(label: "kiln_jobs_reused_total").increment()
                    return .success(Completion(recorded: true, files: files))
                case .leaseLost:
                    return .failure(StageError.stopped(.leaseLost))
                case .unavailable:
                    break
                }
            } catch {
                return .failure(StageError(code: "storage_unavailable", message: "reusing \(earlier): \(error)", retryable: true))
            }
        }
        let inputPath: String
        do {
            // The local store reads the input where it lies; a remote one makes `scratch` to download into.
            inputPath = try await blobs.localFile(key: claim.inputKey, scratch: scratch)
        } catch BlobStoreError.notFound {
            return .failure(StageError(code: "input_missing", message: "the input media was deleted"))
        } catch {
            return .failure(StageError(code: "storage_unavailable", message: "fetching the input: \(error)", retryable: true))
        }
        let source = SourceFile(path: inputPath, kind: claim.inputKind, contentType: claim.inputContentType)
        if let refused = await worker.runner.inspect(source, registry: worker.registry, limits: configuration.limits) {
            return .failure(refused)
        }
        let assets: [String: String]
        do {
            assets = try await AssetFetcher(store: store, blobs: blobs, pipelinesDirectory: configuration.pipelinesDirectory)
                .fetch(plan, tenant: claim.tenant, scratch: scratch)
        } catch {
            return .failure(StageError(code: "storage_unavailable", message: "fetching assets: \(error)", retryable: true))
        }
        var states = claim.outputs
        let pending = plan.outputs.filter { states[$0.name]?.status != .succeeded }
        let shared = await worker.runner.sharedDecode(source, for: pending, registry: worker.registry, limits: configuration.limits)
        phase.end("prepare")
        var completion = Completion()
        let order = shared?.ordered(plan.outputs) ?? plan.outputs
        let remaining = order.filter { states[$0.name]?.status != .succeeded }
        for output in order {
            // Outputs finished by an earlier attempt are already published.
            if states[output.name]?.status == .succeeded { continue }
            do {
                try stop.check()
                let start = shared?.outputs.contains(output.name) == true ? shared?.value : nil
                let last = output.name == remaining.last?.name
                states[output.name] = try await runOutput(output, source: source, start: start, assets: assets, scratch: scratch, states: states,
                                                          first: output.name == remaining.first?.name, endsJob: last)
                if last { completion.recorded = true }
            } catch let error as StageError {
                if !stop.isStopped || error.code != StopReason.leaseLost.rawValue {
                    var failed = states[output.name] ?? OutputState()
                    failed.status = error.retryable ? .queued : .failed
                    failed.error = JobError(code: error.code, message: error.message)
                    _ = try? await store.updateOutput(jobID: claim.id, token: claim.leaseToken, name: output.name, state: failed,
                                                      jobProgress: JobLifecycle.progress(of: states))
                }
                return .failure(error)
            } catch {
                return .failure(StageError(code: "storage_unavailable", message: "\(error)", retryable: true))
            }
        }
        completion.files = Set(states.values.flatMap(\.files).map { $0.storageKey(jobID: claim.id) })
        return .success(completion)
    }

    /// `first`: the claim has just said the job runs, so the output's own
    /// "running" write waits for its first progress tick (a tiny job saves a
    /// round trip). `endsJob`: the final write also ends the job.
    private func runOutput(_ output: JobPlan.Output, source: SourceFile, start: StageValue?, assets: [String: String], scratch: String,
                           states: [String: OutputState], first: Bool, endsJob: Bool) async throws -> OutputState {
        // In the job's scratch directory; made only when a step writes a file there (`StageContext.scratchDirectory`).
        let directory = scratch + "/out-" + output.name
        var states = states
        var state = OutputState(status: .running)
        // A live stream an earlier attempt published stays served while this one runs: its playlists are
        // replaced only by ones at least as long (RunningOutputRecorder), since an EVENT playlist a player
        // has read may only grow (RFC 8216, 6.2.1). Its segments are replaced as this attempt remakes them.
        if let earlier = states[output.name], earlier.playableAt != nil {
            state.files = earlier.files
            state.results = earlier.results
            state.playableAt = earlier.playableAt
        }
        states[output.name] = state
        var phase = PhaseClock()
        if !first {
            guard try await store.updateOutput(jobID: claim.id, token: claim.leaseToken, name: output.name, state: state,
                                               jobProgress: JobLifecycle.progress(of: states)) else {
                throw StageError.stopped(.leaseLost)
            }
        }
        phase.end("start")
        var outputLogger = logger
        outputLogger[metadataKey: "output"] = .string(output.name)
        let board = ProgressBoard()
        let (events, eventSink) = AsyncStream<RunningOutputEvent>.makeStream()
        let publication = ProgressivePublication(directory: directory, staging: blobs.stagingDirectory, events: eventSink, logger: outputLogger)
        let context = StageContext(outputName: output.name, scratchDirectory: directory, stop: stop, limits: configuration.limits,
                                   logger: outputLogger, assets: assets, publisher: publication, reportProgress: { board.set($0) })
        let recorder = RunningOutputRecorder(jobID: claim.id, outputName: output.name, leaseToken: claim.leaseToken, store: store, blobs: blobs,
                                             stop: stop, logger: outputLogger)
        let recording = Task { [states] in await recorder.record(events, board: board, states: states) }
        // Progress reaches the database at most once a second.
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                eventSink.yield(.tick)
            }
        }
        let result: Result<OutputProduct, StageError>
        do {
            result = .success(try await worker.runner.run(output, source: source, start: start, context: context))
        } catch {
            result = .failure(error)
        }
        ticker.cancel()
        eventSink.finish()
        // Everything published while running is uploaded before the final
        // publication, so no EVENT playlist can land after the VOD one.
        let recorded = await recording.value
        phase.end("run")
        let product: OutputProduct
        switch result {
        case let .success(value): product = value
        case let .failure(error):
            // What it published early is collected when the attempt ends (`JobFiles.collect`).
            throw error
        }
        try stop.check()
        // Publish: every file moves to its final key, then the state flips to
        // succeeded in one write; until then clients see none of them (but
        // for what a stage published while running: an hls output's EVENT stream).
        var files: [OutputFile] = []
        for file in product.files {
            let path = output.name + "/" + file.name
            // Fixed files published while running are final: listed under the key they have. Live ones
            // (playlists) changed since: stored again under a new key, since a stored object is never replaced.
            if recorded.published[file.name] == file, !file.publication.isLive,
               let listed = recorded.state.files.first(where: { $0.path == path }), let key = listed.key {
                files.append(OutputFile(path: path, key: key, producedFile: file))
                continue
            }
            let revision = recorded.published[file.name] == nil ? 0 : (recorded.revisions[file.name] ?? 0) + 1
            let key = JobFiles.key(jobID: claim.id, leaseToken: claim.leaseToken, path: path, revision: revision)
            files.append(OutputFile(path: path, key: key, producedFile: file))
            do {
                try await blobs.put(key: key, file: directory + "/" + file.name)
            } catch {
                throw StageError(code: "storage_unavailable", message: "publishing \(path): \(error)", retryable: true)
            }
        }
        phase.end("publish")
        state = OutputState(status: .succeeded, progress: 1, files: files, results: product.results, playableAt: recorded.state.playableAt)
        states[output.name] = state
        let written = endsJob
            ? try await store.finish(jobID: claim.id, token: claim.leaseToken, status: .succeeded, error: nil, output: (output.name, state))
            : try await store.updateOutput(jobID: claim.id, token: claim.leaseToken, name: output.name, state: state,
                                           jobProgress: JobLifecycle.progress(of: states))
        guard written else { throw StageError.stopped(.leaseLost) }
        phase.end("record")
        return state
    }

    private func conclude(_ outcome: Result<Completion, StageError>) async {
        let ownFiles = JobFiles.attemptPrefix(jobID: claim.id, leaseToken: claim.leaseToken)
        let allFiles = JobFiles.jobPrefix(jobID: claim.id)
        // Which files to collect once the outcome is recorded: all of the job's
        // that no record points at once it has ended (no attempt can follow), only
        // this attempt's while another may already be running.
        var collect: String?
        // Keys the record points at, when known without reading it back.
        var referenced: Set<String>?
        var phase = PhaseClock()
        do {
            switch outcome {
            case let .success(completion):
                if completion.recorded {
                    logger.info("job succeeded")
                    Counter(label: "kiln_jobs_finished_total", dimensions: [("status", "succeeded")]).increment()
                    collect = allFiles
                    referenced = completion.files
                } else if try await store.finish(jobID: claim.id, token: claim.leaseToken, status: .succeeded, error: nil) {
                    logger.info("job succeeded")
                    Counter(label: "kiln_jobs_finished_total", dimensions: [("status", "succeeded")]).increment()
                    collect = allFiles
                } else {
                    collect = ownFiles
                }
            case let .failure(error):
                switch JobLifecycle.onFailure(error, attempt: claim.attempt, maxAttempts: claim.maxAttempts, policy: configuration.retry) {
                case let .retry(after):
                    logger.warning("job attempt failed; will retry", metadata: ["error": "\(error)", "retryIn": "\(after)"])
                    try await store.retry(jobID: claim.id, token: claim.leaseToken, error: JobError(code: error.code, message: error.message), afterSeconds: after)
                    collect = ownFiles
                case let .fail(jobError):
                    logger.info("job failed", metadata: ["error": "\(error)"])
                    let ended = try await store.finish(jobID: claim.id, token: claim.leaseToken, status: .failed, error: jobError)
                    Counter(label: "kiln_jobs_finished_total", dimensions: [("status", "failed")]).increment()
                    collect = ended ? allFiles : ownFiles
                case .cancel:
                    logger.info("job canceled")
                    if try await store.finish(jobID: claim.id, token: claim.leaseToken, status: .canceled,
                                              error: JobError(code: "canceled", message: "canceled by request")) {
                        // A canceled job keeps nothing; only the attempt that ended it may say so.
                        try? await blobs.deleteAll(prefix: allFiles)
                    } else {
                        collect = ownFiles
                    }
                case .release:
                    logger.info("worker shutting down; job handed back")
                    try await store.release(jobID: claim.id, token: claim.leaseToken)
                    collect = ownFiles
                case .abandon:
                    logger.warning("lease lost; abandoning attempt")
                    collect = ownFiles
                }
            }
        } catch {
            // The lease will expire and the reaper requeues the job: nothing is lost.
            logger.error("could not record the job's outcome", metadata: ["error": "\(error)"])
            collect = ownFiles
        }
        phase.end("finish")
        defer { phase.end("collect") }
        if let collect {
            do {
                let deleted = try await JobFiles.collect(jobID: claim.id, tenant: claim.tenant, under: collect, store: store, blobs: blobs,
                                                         referenced: referenced)
                if deleted > 0 { logger.debug("collected unreferenced files", metadata: ["count": "\(deleted)"]) }
            } catch {
                logger.warning("could not collect unreferenced files", metadata: ["error": "\(error)"])
            }
        }
    }
}

/// Times the phases of an attempt into `kiln_job_phase_seconds{phase}`, so
/// where a job's time goes is read from `/metrics`, not guessed.
struct PhaseClock {
    private var mark = ContinuousClock.now
    private var ended: Set<String> = []

    /// Records the time since the last mark under `phase` (once per phase), and marks now.
    mutating func end(_ phase: String) {
        let now = ContinuousClock.now
        defer { mark = now }
        guard ended.insert(phase).inserted else { return }
        Timer(label: "kiln_job_phase_seconds", dimensions: [("phase", phase)]).recordSeconds((now - mark).seconds)
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
