import Foundation
import JobStore
import PipelineEngine

/// How a worker process claims and runs jobs.
public struct WorkerConfiguration: Sendable {
    /// Jobs run at once by this process (and threads in the blocking pool).
    public var concurrency: Int
    /// How long a claim is valid without a heartbeat.
    public var leaseSeconds: Double
    public var heartbeatSeconds: Double
    /// Fallback poll when no NOTIFY arrives.
    public var pollSeconds: Double
    /// How often expired leases are looked for.
    public var reapSeconds: Double
    /// How long running jobs may finish after shutdown starts before they are stopped.
    public var drainSeconds: Double
    /// Longest one attempt on an image may run; then it fails with `timeout`.
    public var jobTimeoutSeconds: Double
    /// Longest one attempt on video or audio may run: half as long again as the
    /// longest input accepted (4 h by default), so no valid input times out.
    public var videoJobTimeoutSeconds: Double
    /// Video and audio jobs running at once, at most: long transcodes cannot
    /// hold every slot while thumbnails wait. At least one slot stays for
    /// images whenever `concurrency` allows it.
    public var videoConcurrency: Int
    public var retry: JobLifecycle.RetryPolicy
    public var limits: ProcessingLimits
    /// Per-attempt scratch directories are made under this one.
    public var scratchDirectory: String
    /// Names this process in `lease_owner`, for operators.
    public var owner: String
    /// Where `assets/...` references (watermark files) are looked up.
    public var pipelinesDirectory: String = "Pipelines"
    /// Finished jobs (with their files and events) are deleted this long after they ended; nil keeps them.
    public var jobRetentionSeconds: Double? = 30 * 86_400
    /// Uploads are deleted this long after they came, unless a queued or running job reads them; nil keeps them.
    public var uploadRetentionSeconds: Double? = 30 * 86_400
    /// How often a worker looks for what is past its retention.
    public var pruneSeconds: Double = 600
    /// How long reads of expired media and jobs answer 410 Gone (and usage counts them); 404 after.
    public var tombstoneSeconds: Double = 30 * 86_400

    public init(
        concurrency: Int = WorkerConfiguration.defaultConcurrency,
        leaseSeconds: Double = 30, heartbeatSeconds: Double = 10, pollSeconds: Double = 2, reapSeconds: Double = 5,
        drainSeconds: Double = 25, jobTimeoutSeconds: Double = 900, videoJobTimeoutSeconds: Double? = nil, videoConcurrency: Int? = nil, retry: JobLifecycle.RetryPolicy = .init(), limits: ProcessingLimits = .init(),
        scratchDirectory: String = NSTemporaryDirectory() + "kiln-scratch",
        owner: String = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    ) {
        self.concurrency = concurrency
        self.leaseSeconds = leaseSeconds
        self.heartbeatSeconds = heartbeatSeconds
        self.pollSeconds = pollSeconds
        self.reapSeconds = reapSeconds
        self.drainSeconds = drainSeconds
        self.jobTimeoutSeconds = jobTimeoutSeconds
        self.videoJobTimeoutSeconds = videoJobTimeoutSeconds ?? limits.maxDurationSeconds * 1.5
        self.videoConcurrency = videoConcurrency ?? Self.defaultVideoConcurrency(concurrency: concurrency)
        self.retry = retry
        self.limits = limits
        self.scratchDirectory = scratchDirectory
        self.owner = owner
    }

    /// Two jobs per core. An image job is mostly single-threaded work (libvips
    /// runs each with `threadsPerOperation` threads), and around it a job
    /// waits on PostgreSQL and the store (claim, record, publish): with one
    /// job per core that core idled meanwhile. 4K thumbnails over HTTP on 2
    /// cores: 39.6/s with 2 slots, 43.2 with 3, 44.7 with 4 (`make bench`).
    /// Memory stays bounded by the encode slots (`EncodeSlots`).
    public static var defaultConcurrency: Int { max(1, 2 * ProcessInfo.processInfo.activeProcessorCount) }

    /// libvips threads per operation so that `concurrency` jobs fill the cores
    /// and no more: 1 at the default of two jobs per core.
    public var vipsThreadsPerOperation: Int {
        get { vipsThreads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, concurrency)) }
        set { vipsThreads = newValue }
    }
    /// Set when the jobs of one machine are split over processes (`kiln serve`'s
    /// supervised workers): the threads are counted as if they shared one.
    private var vipsThreads: Int?

    /// All slots but one, so an image job always finds one, and no more than
    /// the cores but one (a transcode keeps several cores busy); at least one.
    public static func defaultVideoConcurrency(concurrency: Int) -> Int {
        max(1, min(concurrency - 1, ProcessInfo.processInfo.activeProcessorCount - 1))
    }
}
