import Foundation
import JobStore
import Logging
import PipelineEngine
import ServiceLifecycle
import Storage
import Synchronization

/// The worker role: claims jobs from PostgreSQL and runs them, `concurrency` at
/// a time. Wakes on the queue's notices, polls as a fallback, and reaps expired leases.
/// On graceful shutdown it stops claiming and lets running jobs finish for
/// `drainSeconds`; then it stops them, and they are retried elsewhere.
public struct WorkerService: Service {
    let store: JobStore
    let blobs: any BlobStore
    let registry: StageRegistry
    let runner: PipelineRunner
    let configuration: WorkerConfiguration
    let logger: Logger
    /// Called as each job's attempt ends, with whether no other job runs now (a supervised
    /// worker reports its metrics then, so a crash in the next job loses none of the last one's).
    public var afterEachJob: @Sendable (_ idle: Bool) -> Void = { _ in }
    /// Where the queue's notices (jobs submitted, requeued, cancels) come from.
    public var notices: QueueNotices = .listen

    /// PostgreSQL signals every listening backend of the database on every NOTIFY,
    /// whatever its channel: each listener costs it about 0.04 ms per job
    /// (`make bench`, stop 30). So a process that listens already (`kiln serve`)
    /// hands the queue's notices to the workers it runs instead of each listening.
    public enum QueueNotices: Sendable {
        /// LISTEN on the store's channel, on a connection of this worker's own.
        case listen
        /// The payloads another listener relays, in order; a relay that ends stops nothing
        /// (the poll remains). The worker treats its start as a missed-notices wake.
        case relayed(AsyncStream<String>)

        /// A relay and the function that feeds it. A worker that falls behind loses the
        /// oldest notices: a lost wake costs a poll interval at most, a lost cancel one heartbeat.
        public static func relay() -> (notices: QueueNotices, give: @Sendable (String) -> Void) {
            let (payloads, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(256))
            return (.relayed(payloads), { continuation.yield($0) })
        }
    }

    public init(store: JobStore, blobs: any BlobStore, registry: StageRegistry, pool: BlockingPool,
                configuration: WorkerConfiguration, logger: Logger) {
        self.store = store
        self.blobs = blobs
        self.registry = registry
        self.runner = PipelineRunner(pool: pool)
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let wake = WakeSignal()
        let running = RunningJobs()
        let videoSlots = VideoSlots(capacity: configuration.videoConcurrency)
        let draining = StopToken()
        try FileManager.default.createDirectory(atPath: configuration.scratchDirectory, withIntermediateDirectories: true)
        // Scratch holds tenants' inputs and outputs: closed to other local users.
        chmod(configuration.scratchDirectory, 0o700)
        logger.info("worker started", metadata: ["concurrency": "\(configuration.concurrency)", "owner": "\(configuration.owner)"])
        // Cancellation (the service group giving up on us) stops claiming and
        // stops running jobs now; graceful shutdown lets them finish first.
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { background in
                background.addTask {
                    switch notices {
                    case .listen:
                        await listen(wake: wake, running: running)
                    case let .relayed(payloads):
                        await wake.wakeAll()
                        for await payload in payloads { await Self.handle(payload, wake: wake, running: running) }
                    }
                }
                background.addTask { await reap(until: draining) }
                background.addTask { await prune(until: draining) }
                await withGracefulShutdownHandler {
                    await withTaskGroup(of: Void.self) { loops in
                        for slot in 0..<configuration.concurrency {
                            loops.addTask {
                                await claimLoop(slot: slot, wake: wake, running: running, videoSlots: videoSlots, draining: draining)
                            }
                        }
                    }
                } onGracefulShutdown: {
                    draining.stop(.shutdown)
                    Task {
                        await wake.wakeAll()
                        try? await Task.sleep(for: .seconds(configuration.drainSeconds))
                        running.stopAll(.shutdown)
                    }
                }
                background.cancelAll()
            }
        } onCancel: {
            draining.stop(.shutdown)
            running.stopAll(.shutdown)
        }
        logger.info("worker stopped")
    }

    private func claimLoop(slot: Int, wake: WakeSignal, running: RunningJobs, videoSlots: VideoSlots, draining: StopToken) async {
        while !draining.isStopped && !Task.isCancelled {
            let claimed: ClaimedJob?
            let holdsVideoSlot = videoSlots.reserve()
            do {
                var phase = PhaseClock()
                claimed = try await store.claim(owner: configuration.owner, leaseSeconds: configuration.leaseSeconds,
                                                kinds: VideoSlots.claimableKinds(holdingSlot: holdsVideoSlot))
                if claimed != nil { phase.end("claim") }
            } catch {
                if holdsVideoSlot { videoSlots.release() }
                logger.warning("claim failed", metadata: ["error": "\(error)"])
                await wake.wait(seconds: configuration.pollSeconds)
                continue
            }
            let usesVideoSlot = holdsVideoSlot && claimed.map { $0.inputKind != .image } == true
            if holdsVideoSlot && !usesVideoSlot { videoSlots.release() }
            guard let claim = claimed else {
                await wake.wait(seconds: configuration.pollSeconds)
                continue
            }
            defer { if usesVideoSlot { videoSlots.release() } }
            var jobLogger = logger
            jobLogger[metadataKey: "job.id"] = .string(claim.id)
            jobLogger[metadataKey: "attempt"] = "\(claim.attempt)"
            let timeout = claim.inputKind == .image ? configuration.jobTimeoutSeconds : configuration.videoJobTimeoutSeconds
            let stop = StopToken(deadline: .now + .seconds(timeout))
            running.add(claim.id, stop)
            await JobExecution(claim: claim, worker: self, logger: jobLogger, stop: stop).run()
            let idle = running.remove(claim.id)
            afterEachJob(idle)
        }
    }

    private func reap(until draining: StopToken) async {
        while !Task.isCancelled && !draining.isStopped {
            do {
                let reaped = try await store.reapExpiredLeases()
                if !reaped.isEmpty { logger.warning("reaped jobs with expired leases", metadata: ["count": "\(reaped.count)"]) }
                // A job the reaper ended has no attempt left to clean up after it: what its dead
                // attempts wrote is collected here (a requeued job's next attempt does it at its end).
                for job in reaped where job.status.isFinal {
                    do {
                        try await JobFiles.collect(jobID: job.id, tenant: job.tenant, under: JobFiles.jobPrefix(jobID: job.id), store: store, blobs: blobs)
                    } catch {
                        logger.debug("collecting a reaped job's files failed", metadata: ["job.id": .string(job.id), "error": "\(error)"])
                    }
                }
            } catch {
                logger.debug("reaper failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(configuration.reapSeconds))
        }
    }

    /// Deletes finished jobs and uploads past their retention, every `pruneSeconds`.
    private func prune(until draining: StopToken) async {
        while !Task.isCancelled && !draining.isStopped {
            do {
                let (jobs, uploads) = try await Retention(store: store, blobs: blobs, configuration: configuration).pruneOnce()
                if jobs + uploads > 0 { logger.info("pruned what is past its retention", metadata: ["jobs": "\(jobs)", "uploads": "\(uploads)"]) }
            } catch {
                logger.debug("prune failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(configuration.pruneSeconds))
        }
    }

    /// One notice of the queue's channel. An empty payload means one job was
    /// submitted, any other (`requeued`, `batch`) that perhaps many became
    /// claimable; `cancel <id>` stops that job if it runs here.
    static func handle(_ payload: String, wake: WakeSignal, running: RunningJobs) async {
        if payload.hasPrefix("cancel ") {
            running.stop(String(payload.dropFirst("cancel ".count)), .canceled)
        } else if payload.isEmpty {
            await wake.wakeOne()
        } else {
            await wake.wakeAll()
        }
    }

    /// LISTENs on the store's channel on a connection of its own; reconnects on error.
    private func listen(wake: WakeSignal, running: RunningJobs) async {
        while !Task.isCancelled {
            do {
                try await store.client.withDedicatedConnection { connection in
                    try await connection.listen(on: store.channel) { notifications in
                        // Jobs queued before LISTEN took effect sent their NOTIFY to
                        // nobody: look once now that we are listening.
                        await wake.wakeAll()
                        for try await notification in notifications {
                            await Self.handle(notification.payload, wake: wake, running: running)
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("listen failed; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// The stop tokens of jobs running in this process, for shutdown. A lock, not
/// an actor: cancellation handlers must reach it synchronously.
final class RunningJobs: Sendable {
    private let tokens = Mutex<[String: StopToken]>([:])

    func add(_ id: String, _ token: StopToken) { tokens.withLock { $0[id] = token } }
    /// Removes a finished job; true when no other job runs now.
    @discardableResult
    func remove(_ id: String) -> Bool { tokens.withLock { $0.removeValue(forKey: id); return $0.isEmpty } }
    func stopAll(_ reason: StopReason) { tokens.withLock { for token in $0.values { token.stop(reason) } } }
    func stop(_ id: String, _ reason: StopReason) { tokens.withLock { $0[id]?.stop(reason) } }
}
