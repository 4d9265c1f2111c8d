import Egress
import Foundation
import HTTPAPI
import JobStore
import JobRunner
import PipelineEngine
import Storage

/// Everything Kiln reads from its environment, with the defaults SPEC.md gives.
public struct KilnConfiguration: Sendable {
    public var databaseURL: String
    /// Tables live in this schema (tests give each run its own); nil for `public`.
    public var databaseSchema: String?
    /// PostgreSQL connections this process keeps open (all of them, always: see DatabaseClient).
    public var databasePoolSize: Int
    /// The local store's directory; with `s3` set, where files are staged before they go up.
    public var storageRoot: String
    /// Outputs and uploads in an S3-compatible bucket (`KILN_STORAGE=s3://bucket/prefix`), shared by every host.
    public var s3: S3Location?
    /// Where outputs and uploads are read from when the store lacks them or fails
    /// (`KILN_REPLICA_STORAGE`: a mirror of the bucket, or a directory); nil: none.
    public var replica: Replica?

    public enum Replica: Sendable, Equatable {
        case s3(S3Location)
        case directory(String)
    }
    public var apiKeys: String
    /// Signs playback tokens; nil: one is made once and kept in PostgreSQL, shared by every process.
    public var signingSecret: String?
    public var host: String
    public var port: Int
    public var publicURL: String
    public var pipelinesDirectory: String
    public var uploadLimits: UploadLimits
    public var worker: WorkerConfiguration
    /// Where jobs without a `webhook` of their own report; set (or cleared) by `kiln serve` at start-up.
    public var webhookURL: String?
    /// Signs webhooks (`whsec_` + base64); nil: one is made once and kept in PostgreSQL.
    public var webhookSecret: String?
    public var webhooks = WebhookNotifier.Configuration()
    /// After a tenant rotates its webhook secret, how long the one before keeps signing beside it.
    public var webhookRotationOverlapSeconds: Double = 86_400
    /// When set, `/metrics` wants `Authorization: Bearer <this>` (its totals span every tenant).
    public var metricsToken: String?
    /// Requests a second each API key may make on average (0: no limit), and at once.
    public var rateLimit: Double = 500
    public var rateBurst: Double = 1000
    /// Requests one process holds at once (`RequestAdmission`); more wait unread in the kernel.
    public var maxRequestsInFlight = 1024
    /// What each tenant may hold at once (running and queued jobs, stored bytes).
    public var tenantLimits = TenantLimitsTable()
    /// How slowly a client may send (see `ConnectionDeadlines`).
    public var connectionDeadlines = ConnectionDeadlines()
    /// Requests that stay open by design (event streams, long polls) one API key may hold at once.
    public var maxLongRequestsPerKey = 64

    /// Image URLs: the result cache's budgets and the per-tenant cap on cold renders.
    public var images = ImageResultCache.Configuration()
    /// URL prefixes image URLs may fetch sources from (`KILN_IMAGE_ORIGINS`); none by default.
    public var imageOrigins: [String] = []
    /// Child processes `kiln serve` renders image URLs in (one render at a time each); default one per core.
    public var renderProcesses = ProcessInfo.processInfo.activeProcessorCount
    /// How long one image URL render may take before its child is replaced and the request answered 503.
    public var imageRenderSeconds: Double = 30

    /// Where `kiln serve` runs jobs: in supervised child processes (the default), or in its own process.
    public var workerProcesses: WorkerProcesses

    public struct WorkerProcesses: Sendable {
        /// Child processes `kiln serve` runs jobs in; 0 runs them in the server's own process.
        public var count: Int
        /// What each child sets on itself before it takes work.
        public var limits: WorkerSandbox.Limits

        /// One process per job slot, so a crash costs one job, not every job of a process.
        public init(concurrency: Int, uploadLimits: UploadLimits) {
            count = concurrency
            limits = WorkerSandbox.Limits(addressSpaceBytes: Self.defaultAddressSpaceBytes(processes: concurrency),
                                          maxFileBytes: Self.defaultMaxFileBytes(uploadLimits: uploadLimits), seccomp: true)
        }

        /// The machine's memory split over the children, but never below 4 GiB:
        /// RLIMIT_AS counts address space reserved, not used (thread stacks,
        /// malloc arenas), and an idle worker already reserves ~1 GiB of it.
        static func defaultAddressSpaceBytes(processes: Int) -> UInt64 {
            let share = ProcessInfo.processInfo.physicalMemory / UInt64(max(1, processes))
            return max(4 << 30, share)
        }

        /// Twice the largest upload: a scratch file is an input or an output of a
        /// step, and no output of a valid input comes near that.
        static func defaultMaxFileBytes(uploadLimits: UploadLimits) -> UInt64 {
            UInt64(max(uploadLimits.image, uploadLimits.video, uploadLimits.audio)) * 2
        }
    }

    public enum ConfigurationError: Error, CustomStringConvertible {
        case missing(String)
        case invalid(String, String)

        public var description: String {
            switch self {
            case let .missing(name): "\(name) is not set"
            case let .invalid(name, why): "\(name): \(why)"
            }
        }
    }

    public init(databaseURL: String, databaseSchema: String? = nil, databasePoolSize: Int = 10, storageRoot: String, apiKeys: String = "",
                host: String = "127.0.0.1", port: Int = 8080, publicURL: String? = nil, pipelinesDirectory: String = "Pipelines",
                uploadLimits: UploadLimits = .init(), worker: WorkerConfiguration = .init(), signingSecret: String? = nil,
                webhookURL: String? = nil, webhookSecret: String? = nil) {
        self.signingSecret = signingSecret
        self.webhookURL = webhookURL
        self.webhookSecret = webhookSecret
        self.databaseURL = databaseURL
        self.databaseSchema = databaseSchema
        self.databasePoolSize = databasePoolSize
        self.storageRoot = storageRoot
        self.apiKeys = apiKeys
        self.host = host
        self.port = port
        self.publicURL = publicURL ?? "http://\(host):\(port)"
        self.pipelinesDirectory = pipelinesDirectory
        self.uploadLimits = uploadLimits
        self.worker = worker
        self.worker.pipelinesDirectory = pipelinesDirectory
        workerProcesses = WorkerProcesses(concurrency: worker.concurrency, uploadLimits: uploadLimits)
    }

    /// Reads the process environment.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> KilnConfiguration {
        guard let database = env["DATABASE_URL"], !database.isEmpty else { throw ConfigurationError.missing("DATABASE_URL") }
        func int(_ name: String, _ fallback: Int) throws -> Int {
            guard let raw = env[name], !raw.isEmpty else { return fallback }
            guard let value = Int(raw), value > 0 else { throw ConfigurationError.invalid(name, "expected a positive integer, got \(raw)") }
            return value
        }
        /// Zero allowed.
        func count(_ name: String, _ fallback: Int) throws -> Int {
            guard let raw = env[name], !raw.isEmpty else { return fallback }
            guard let value = Int(raw), value >= 0 else { throw ConfigurationError.invalid(name, "expected 0 or a positive integer, got \(raw)") }
            return value
        }
        /// Unset: nil (no limit).
        func optionalCount(_ name: String) throws -> Int? {
            guard let raw = env[name], !raw.isEmpty else { return nil }
            return try count(name, 0)
        }
        func double(_ name: String, _ fallback: Double) throws -> Double {
            guard let raw = env[name], !raw.isEmpty else { return fallback }
            guard let value = Double(raw), value > 0 else { throw ConfigurationError.invalid(name, "expected a positive number, got \(raw)") }
            return value
        }
        func days(_ name: String, _ fallback: Double) throws -> Double {
            guard let raw = env[name], !raw.isEmpty else { return fallback }
            guard let value = Double(raw), value >= 0 else { throw ConfigurationError.invalid(name, "expected a number of days (0 keeps for ever), got \(raw)") }
            return value
        }
        let dataDirectory = env["KILN_DATA_DIR"] ?? ".kiln"
        var storage = env["KILN_STORAGE"].flatMap { $0.isEmpty ? nil : $0 } ?? dataDirectory + "/storage"
        var s3: S3Location?
        if storage.hasPrefix("s3://") {
            do {
                s3 = try S3Location.parse(storage, environment: env)
            } catch let S3Location.ConfigurationError.invalid(name, why) {
                throw ConfigurationError.invalid(name, why)
            }
            storage = env["KILN_STAGING_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? dataDirectory + "/staging"
        }
        if storage.hasPrefix("file://") { storage = String(storage.dropFirst(7)) }
        let defaults = UploadLimits()
        let limits = UploadLimits(image: try int("KILN_MAX_IMAGE_BYTES", defaults.image),
                                  video: try int("KILN_MAX_VIDEO_BYTES", defaults.video),
                                  audio: try int("KILN_MAX_AUDIO_BYTES", defaults.audio))
        var worker = WorkerConfiguration()
        worker.concurrency = try int("KILN_WORKER_CONCURRENCY", worker.concurrency)
        worker.leaseSeconds = try double("KILN_LEASE_SECONDS", worker.leaseSeconds)
        worker.drainSeconds = try double("KILN_DRAIN_SECONDS", worker.drainSeconds)
        worker.reapSeconds = try double("KILN_REAP_SECONDS", worker.reapSeconds)
        worker.pollSeconds = try double("KILN_POLL_SECONDS", worker.pollSeconds)
        // Retention in days; 0 keeps for ever.
        let jobDays = try days("KILN_JOB_RETENTION_DAYS", 30), uploadDays = try days("KILN_UPLOAD_RETENTION_DAYS", 30)
        worker.jobRetentionSeconds = jobDays > 0 ? jobDays * 86_400 : nil
        worker.uploadRetentionSeconds = uploadDays > 0 ? uploadDays * 86_400 : nil
        worker.jobTimeoutSeconds = try double("KILN_JOB_TIMEOUT_SECONDS", worker.jobTimeoutSeconds)
        worker.videoJobTimeoutSeconds = try double("KILN_VIDEO_JOB_TIMEOUT_SECONDS", worker.videoJobTimeoutSeconds)
        worker.videoConcurrency = try count("KILN_VIDEO_CONCURRENCY", WorkerConfiguration.defaultVideoConcurrency(concurrency: worker.concurrency))
        if let threads = env["KILN_VIPS_THREADS_PER_OPERATION"], !threads.isEmpty {
            worker.vipsThreadsPerOperation = try int("KILN_VIPS_THREADS_PER_OPERATION", 1)
        }
        if let owner = env["KILN_WORKER_OWNER"], !owner.isEmpty { worker.owner = owner }
        worker.heartbeatSeconds = min(worker.heartbeatSeconds, worker.leaseSeconds / 3)
        worker.limits.maxImagePixels = try int("KILN_MAX_IMAGE_PIXELS", worker.limits.maxImagePixels)
        worker.limits.maxOutputPixels = try int("KILN_MAX_OUTPUT_PIXELS", worker.limits.maxOutputPixels)
        worker.limits.maxOutputDimension = try int("KILN_MAX_OUTPUT_DIMENSION", worker.limits.maxOutputDimension)
        worker.pruneSeconds = try double("KILN_PRUNE_SECONDS", worker.pruneSeconds)
        worker.limits.maxAnimationFrames = try int("KILN_MAX_ANIMATION_FRAMES", worker.limits.maxAnimationFrames)
        worker.limits.maxAnimationPixels = try int("KILN_MAX_ANIMATION_PIXELS", worker.limits.maxAnimationPixels)
        worker.limits.turboJPEG = try count("KILN_TURBOJPEG", 1) != 0
        worker.scratchDirectory = env["KILN_SCRATCH_DIR"] ?? dataDirectory + "/scratch"
        var webhooks = WebhookNotifier.Configuration()
        if let raw = env["KILN_WEBHOOK_RETRY_SECONDS"], !raw.isEmpty {
            let delays = raw.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard !delays.isEmpty, delays.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw ConfigurationError.invalid("KILN_WEBHOOK_RETRY_SECONDS", "expected positive seconds separated by commas, got \(raw)")
            }
            webhooks.retrySeconds = delays.compactMap { $0 }
        }
        webhooks.deadlineSeconds = try double("KILN_WEBHOOK_DEADLINE_SECONDS", webhooks.deadlineSeconds)
        if let raw = env["KILN_WEBHOOK_ALLOWED_NETWORKS"], !raw.isEmpty {
            guard let networks = EgressPolicy.networks(parsing: raw) else {
                throw ConfigurationError.invalid("KILN_WEBHOOK_ALLOWED_NETWORKS", "expected CIDR ranges separated by commas (10.0.0.0/8,fd00::/8), got \(raw)")
            }
            webhooks.egress = EgressPolicy(allowedNetworks: networks)
        }
        let host = env["KILN_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let port = try int("KILN_PORT", 8080)
        var configuration = KilnConfiguration(
            databaseURL: database, databaseSchema: env["KILN_DATABASE_SCHEMA"], databasePoolSize: try int("KILN_DB_POOL_SIZE", 10), storageRoot: storage,
            apiKeys: env["KILN_API_KEYS"] ?? "", host: host, port: port,
            publicURL: env["KILN_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 },
            pipelinesDirectory: env["KILN_PIPELINES_DIR"] ?? "Pipelines", uploadLimits: limits, worker: worker,
            signingSecret: env["KILN_SIGNING_SECRET"].flatMap { $0.isEmpty ? nil : $0 },
            webhookURL: env["KILN_WEBHOOK_URL"].flatMap { $0.isEmpty ? nil : $0 },
            webhookSecret: env["KILN_WEBHOOK_SECRET"].flatMap { $0.isEmpty ? nil : $0 })
        configuration.webhooks = webhooks
        configuration.webhookRotationOverlapSeconds = try double("KILN_WEBHOOK_ROTATION_HOURS", 24) * 3600
        configuration.metricsToken = env["KILN_METRICS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.s3 = s3
        if let replica = env["KILN_REPLICA_STORAGE"], !replica.isEmpty {
            if replica.hasPrefix("s3://") {
                // Its own endpoint and credentials as KILN_REPLICA_S3_ENDPOINT, KILN_REPLICA_AWS_ACCESS_KEY_ID, ...; the primary's otherwise.
                var replicaEnvironment = env
                for (name, value) in env where name.hasPrefix("KILN_REPLICA_") && name != "KILN_REPLICA_STORAGE" {
                    replicaEnvironment[String(name.dropFirst("KILN_REPLICA_".count))] = value
                }
                do {
                    configuration.replica = .s3(try S3Location.parse(replica, environment: replicaEnvironment))
                } catch let S3Location.ConfigurationError.invalid(name, why) {
                    throw ConfigurationError.invalid(name == "KILN_STORAGE" ? "KILN_REPLICA_STORAGE" : "KILN_REPLICA_" + name, why)
                }
            } else {
                configuration.replica = .directory(replica.hasPrefix("file://") ? String(replica.dropFirst(7)) : replica)
            }
        }
        if let raw = env["KILN_RATE_LIMIT"], !raw.isEmpty {
            guard let rate = Double(raw), rate >= 0 else { throw ConfigurationError.invalid("KILN_RATE_LIMIT", "expected requests per second (0: no limit), got \(raw)") }
            configuration.rateLimit = rate
            configuration.rateBurst = rate * 2
        }
        configuration.rateBurst = try double("KILN_RATE_BURST", configuration.rateBurst)
        configuration.maxRequestsInFlight = max(1, try int("KILN_MAX_REQUESTS_IN_FLIGHT", configuration.maxRequestsInFlight))
        configuration.connectionDeadlines.headSeconds = try double("KILN_HTTP_HEAD_TIMEOUT_SECONDS", configuration.connectionDeadlines.headSeconds)
        configuration.connectionDeadlines.bodyStallSeconds = try double("KILN_HTTP_BODY_STALL_SECONDS", configuration.connectionDeadlines.bodyStallSeconds)
        configuration.connectionDeadlines.minBodyBytesPerSecond = Double(try count("KILN_HTTP_MIN_BODY_BYTES_PER_SECOND",
                                                                                   Int(configuration.connectionDeadlines.minBodyBytesPerSecond)))
        configuration.tenantLimits.defaults = TenantLimits(
            maxRunning: try optionalCount("KILN_TENANT_MAX_RUNNING"), maxQueued: try optionalCount("KILN_TENANT_MAX_QUEUED"),
            maxStorageBytes: try optionalCount("KILN_TENANT_MAX_STORAGE_MB").map { $0 << 20 })
        if let raw = env["KILN_TENANT_LIMITS"], !raw.isEmpty {
            switch TenantLimitsTable.parse(raw) {
            case let .success(tenants): configuration.tenantLimits.tenants = tenants
            case let .failure(problem): throw ConfigurationError.invalid("KILN_TENANT_LIMITS", problem.description)
            }
        }
        configuration.maxLongRequestsPerKey = try int("KILN_MAX_LONG_REQUESTS_PER_KEY", configuration.maxLongRequestsPerKey)
        configuration.workerProcesses.count = try count("KILN_WORKER_PROCESSES", configuration.workerProcesses.count)
        configuration.images.storeBytes = try count("KILN_IMAGE_CACHE_MB", configuration.images.storeBytes >> 20) << 20
        configuration.images.memoryBytes = try count("KILN_IMAGE_MEMORY_CACHE_MB", configuration.images.memoryBytes >> 20) << 20
        configuration.images.maxRendersPerTenant = max(1, try count("KILN_IMAGE_MAX_RENDERS_PER_TENANT", configuration.images.maxRendersPerTenant))
        configuration.renderProcesses = max(1, try count("KILN_RENDER_PROCESSES", configuration.renderProcesses))
        if let raw = env["KILN_IMAGE_ORIGINS"], !raw.isEmpty {
            guard let prefixes = ImageOrigins.prefixes(parsing: raw) else {
                throw ConfigurationError.invalid("KILN_IMAGE_ORIGINS", "expected http(s) URL prefixes separated by commas (https://cdn.example.com/images/), got \(raw)")
            }
            configuration.imageOrigins = prefixes
        }
        configuration.imageRenderSeconds = try double("KILN_IMAGE_RENDER_TIMEOUT_SECONDS", configuration.imageRenderSeconds)
        let megabytes = { (name: String, fallback: UInt64?) throws -> UInt64? in
            // 0: no limit.
            let value = try count(name, fallback.map { Int($0 >> 20) } ?? 0)
            return value == 0 ? nil : UInt64(value) << 20
        }
        configuration.workerProcesses.limits.addressSpaceBytes = try megabytes("KILN_WORKER_ADDRESS_SPACE_MB", configuration.workerProcesses.limits.addressSpaceBytes)
        configuration.workerProcesses.limits.maxFileBytes = try megabytes("KILN_WORKER_MAX_FILE_MB", configuration.workerProcesses.limits.maxFileBytes)
        configuration.workerProcesses.limits.seccomp = try count("KILN_WORKER_SECCOMP", 1) != 0
        return configuration
    }

    /// What is wrong with the webhook settings, as a configuration error.
    func webhookProblem() -> ConfigurationError? {
        if let secret = webhookSecret, let problem = WebhookSigner.problem(in: secret) {
            return .invalid("KILN_WEBHOOK_SECRET", problem)
        }
        if let url = webhookURL {
            let scheme = URLComponents(string: url)?.scheme?.lowercased()
            if scheme != "http" && scheme != "https" || URLComponents(string: url)?.host?.isEmpty != false {
                return .invalid("KILN_WEBHOOK_URL", "expected an http(s) URL, got \(url)")
            }
        }
        return nil
    }
}
