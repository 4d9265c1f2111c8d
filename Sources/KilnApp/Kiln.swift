import FFmpegBindings
import Foundation
import HTTPAPI
import Hummingbird
import JobRunner
import JobStore
import Logging
import Metrics
import PipelineEngine
import PostgresNIO
import Prometheus
import ServiceLifecycle
import Storage
import VipsBindings

/// One Kiln process, wired: the PostgreSQL client, the store, the blob store,
/// the blocking pool, and the services each role runs. `kiln serve`,
/// `kiln worker` and the tests all build this same object.
public struct Kiln: Sendable {
    public let configuration: KilnConfiguration
    public let logger: Logger
    public let client: DatabasePool
    public let store: JobStore
    public let blobs: any BlobStore
    let pool: BlockingPool
    let gate = MigrationGate()
    let keyRing = APIKeyRing()
    public let playback = PlaybackSigner()
    let webhookSigner = WebhookSigner()
    let rateLimiter: RateLimiter
    let events = EventHub()
    let readiness = Readiness()
    /// What supervised worker processes count, for this server's `/metrics`.
    let workerMetrics = WorkerMetricsBoard()
    /// Renderings of image URLs, shared through the blob store.
    public let imageCache: ImageResultCache

    /// `blobs` replaces the store the configuration names (tests watch what a job publishes through it).
    public init(configuration: KilnConfiguration, logger: Logger, blobs: (any BlobStore)? = nil) throws {
        if let problem = APIKeys.problem(in: configuration.apiKeys) {
            throw KilnConfiguration.ConfigurationError.invalid("KILN_API_KEYS", problem)
        }
        if let problem = configuration.webhookProblem() { throw problem }
        self.configuration = configuration
        self.logger = logger
        rateLimiter = RateLimiter(rate: configuration.rateLimit, burst: configuration.rateBurst)
        client = try DatabaseClient.make(url: configuration.databaseURL, schema: configuration.databaseSchema,
                                         poolSize: configuration.databasePoolSize, logger: logger)
        let channel = configuration.databaseSchema.map { "kiln_jobs_\($0)" } ?? "kiln_jobs"
        store = JobStore(client: client, logger: logger, channel: channel, schema: configuration.databaseSchema)
        if let blobs {
            self.blobs = blobs
        } else {
            let primary: any BlobStore = if let s3 = configuration.s3 {
                try S3BlobStore(location: s3, stagingDirectory: configuration.storageRoot)
            } else {
                try LocalBlobStore(root: configuration.storageRoot)
            }
            self.blobs = try Self.withReplica(primary, configuration.replica, logger: logger)
        }
        // libvips' warnings repeat the errors a job already reports ("error in
        // tile …" for every tile of a truncated file): debug level, not stderr.
        _ = Self.libraryLogsRouted
        // One thread per concurrent job, plus one so uploads can be inspected while jobs run.
        pool = BlockingPool(threads: configuration.worker.concurrency + 1)
        var images = configuration.images
        images.scratchDirectory = configuration.worker.scratchDirectory + "/images"
        imageCache = ImageResultCache(configuration: images, store: store, blobs: self.blobs, logger: logger)
        try Vips.setThreadsPerOperation(configuration.worker.vipsThreadsPerOperation)
    }

    /// The store, reading from `replica` what it lacks or cannot serve; every
    /// such read is counted (`kiln_blob_replica_reads_total`) and logged.
    static func withReplica(_ primary: any BlobStore, _ replica: KilnConfiguration.Replica?, logger: Logger) throws -> any BlobStore {
        guard let replica else { return primary }
        let mirror: any BlobStore = switch replica {
        case let .s3(location): try S3BlobStore(location: location, stagingDirectory: primary.stagingDirectory + "/replica")
        case let .directory(path): try LocalBlobStore(root: path)
        }
        return ReplicatedBlobStore(primary: primary, replica: mirror) { key, error in
            Counter(label: "kiln_blob_replica_reads_total", dimensions: [("reason", error == nil ? "missing" : "failed")]).increment()
            if let error {
                logger.warning("the store failed a read; the replica answered", metadata: ["key": .string(key), "error": "\(error)"])
            } else {
                logger.debug("the store lacks an object; the replica had it", metadata: ["key": .string(key)])
            }
        }
    }

    /// libvips and FFmpeg log process-wide: routed once, to a logger of their own.
    /// Their lines repeat errors a job already reports ("error in tile …" for
    /// every tile of a truncated file), so they go out at debug level.
    static let libraryLogsRouted: Void = {
        var logger = Logger(label: "kiln.codecs")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        Vips.addLogSink { [logger] message in logger.debug("libvips", metadata: ["message": .string(message)]) }
        FFmpeg.addLogSink { [logger] level, line in logger.debug("ffmpeg", metadata: ["message": .string(line), "level": "\(level)"]) }
    }()

    /// Prometheus registry behind swift-metrics; bootstrapped once per process.
    public static let metrics: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    var worker: WorkerService {
        WorkerService(store: store, blobs: blobs, registry: Stages.registry, pool: pool, configuration: configuration.worker, logger: logger)
    }

    /// Sends the webhook outbox; runs wherever workers run.
    var webhookNotifier: WebhookNotifier {
        WebhookNotifier(store: store, signer: webhookSigner, payload: { [configuration, playback] event, job in
            try WebhookPayload.make(event: event, job: job, publicURL: configuration.publicURL, playback: playback)
        }, configuration: configuration.webhooks, logger: logger)
    }

    /// `isServer`: this process is `kiln serve`, which owns the default webhook
    /// setting and shows generated secrets; a `kiln worker` leaves both alone.
    private func migrationService(isServer: Bool) -> MigrationService {
        MigrationService(migrator: Migrator(client: client, logger: logger), schema: configuration.databaseSchema, gate: gate, logger: logger) {
            [configuration, store, keyRing, playback, webhookSigner, readiness, blobs, logger] in
            do {
                try await blobs.checkAccess()
            } catch {
                logger.critical("the blob store cannot be used", metadata: ["error": "\(error)"])
                throw error
            }
            var keys = APIKeys(parsing: configuration.apiKeys)
            if keys.isEmpty {
                // No keys configured: make one, keep only its digest, show it once.
                let candidate = APIKeys.generate()
                let digest = try await store.settingInsertIfAbsent("generated_api_key_sha256", value: APIKeys.digestHex(candidate))
                if digest == APIKeys.digestHex(candidate) && isServer {
                    // Written straight to the file descriptor: print() is buffered when
                    // stdout is a file, and the key would appear only at exit.
                    FileHandle.standardOutput.write(Data("""

                        Kiln created an API key for the default tenant. It is shown only this once:

                            \(candidate)

                        Set KILN_API_KEYS to choose your own keys instead.

                        """.utf8))
                }
                keys = keys.adding(tenant: "default", digestHex: digest)
            }
            keyRing.replace(with: keys)
            if let secret = configuration.signingSecret {
                playback.replace(secret: secret)
            } else {
                playback.replace(secret: try await store.settingInsertIfAbsent("playback_signing_secret", value: PlaybackSigner.generateSecret()))
            }
            if let secret = configuration.webhookSecret {
                webhookSigner.replace(secret: secret)
            } else {
                let candidate = WebhookSigner.generateSecret()
                let secret = try await store.settingInsertIfAbsent("webhook_signing_secret", value: candidate)
                webhookSigner.replace(secret: secret)
                if secret == candidate && isServer {
                    FileHandle.standardOutput.write(Data("""

                        Kiln created the secret that signs its webhooks (Standard Webhooks). It is shown only this once:

                            \(secret)

                        Set KILN_WEBHOOK_SECRET to choose your own instead.

                        """.utf8))
                }
            }
            if isServer {
                try await store.setDefaultWebhook(url: configuration.webhookURL)
                try await store.setTenantLimits(configuration.tenantLimits)
            }
            readiness.markReady()
        }
    }

    /// Every HTTP route, as the server runs them.
    /// `inspector`: reads uploads' headers; nil reads them in this process.
    /// `imageRenderer`: renders image URLs; nil renders them in this process.
    public func makeRouter(inspector: (any MediaInspector)? = nil, imageRenderer: (any ImageRenderer)? = nil) throws -> Router<KilnRequestContext> {
        let pipelines = try PipelineLibrary(directory: configuration.pipelinesDirectory)
        let environment = APIEnvironment(
            store: store, blobs: blobs, registry: Stages.registry, pipelines: pipelines, inspector: inspector ?? MediaInspection(pool: pool),
            keys: keyRing, publicURL: configuration.publicURL, uploadLimits: configuration.uploadLimits, metrics: Self.metrics, readiness: readiness,
            playback: playback, events: events,
            rateLimiter: configuration.rateLimit > 0 ? rateLimiter : nil)
        var configured = environment
        configured.webhookEgress = configuration.webhooks.egress
        configured.webhookRotationOverlapSeconds = configuration.webhookRotationOverlapSeconds
        configured.workerMetrics = { [workerMetrics] in workerMetrics.texts }
        configured.longRequests = LongRequests(limit: configuration.maxLongRequestsPerKey)
        configured.tenantLimits = configuration.tenantLimits
        configured.metricsToken = configuration.metricsToken
        configured.imageCache = imageCache
        configured.imageOrigins = ImageOrigins(prefixes: configuration.imageOrigins, egress: configuration.webhooks.egress,
                                               maxBytes: configuration.uploadLimits.image)
        configured.imageRenderer = imageRenderer ?? LocalImageRenderer(run: LocalRun(limits: configuration.worker.limits, logger: logger, pool: pool))
        return buildRouter(configured)
    }

    /// Where a server's jobs run.
    public enum WorkerPlacement: Sendable {
        /// Elsewhere (`kiln worker` on other hosts).
        case none
        /// In the server's own process (the tests' harness; `KILN_WORKER_PROCESSES=0`).
        case inProcess
        /// In child processes of this executable that the server supervises.
        case supervised(executable: String)
    }

    /// The HTTP API, with workers in the same process when `withWorkers`.
    public func makeApplication(withWorkers: Bool = true) throws -> some ApplicationProtocol {
        try makeApplication(workers: withWorkers ? .inProcess : .none)
    }

    /// The HTTP API, with its workers where `workers` says. The webhook notifier
    /// runs here whenever there are workers: it decodes nothing. With
    /// `inspectorExecutable`, uploads' headers are read in a child process of
    /// that executable (`kiln inspect --serve`), not in the server.
    public func makeApplication(workers: WorkerPlacement, inspectorExecutable: String? = nil) throws -> some ApplicationProtocol {
        let childEnvironment = ProcessInfo.processInfo.environment.merging(WorkerProcessPlan.sandboxEnvironment(configuration)) { $1 }
        let zygote = Self.zygote(for: workers, inspectorExecutable: inspectorExecutable, environment: childEnvironment, logger: logger)
        var inspector: SupervisedInspection?
        var renderer: ImageRenderPool?
        if let inspectorExecutable {
            inspector = SupervisedInspection(executable: inspectorExecutable, environment: childEnvironment, zygote: zygote, logger: logger)
            inspector?.start()
            renderer = ImageRenderPool(children: configuration.renderProcesses, executable: inspectorExecutable, environment: childEnvironment,
                                       zygote: zygote, deadline: .seconds(configuration.imageRenderSeconds), logger: logger)
        }
        var services: [any Service] = [client, migrationService(isServer: true)]
        services.append(GatedService(gate: gate, service: ImageCacheMaintenance(cache: imageCache)))
        // The server's one LISTEN; its workers, wherever they run here, hear the queue through it.
        var queueNotices: (@Sendable (String) -> Void)?
        var inProcessWorker = worker
        let children = RunningChildren()
        switch workers {
        case .none:
            break
        case .inProcess:
            let relay = WorkerService.QueueNotices.relay()
            inProcessWorker.notices = relay.notices
            queueNotices = relay.give
        case .supervised:
            queueNotices = { payload in
                if let line = QueueNoticeLine.encode(payload) { children.sendIfRoom(line) }
            }
        }
        services.append(NotificationListener(store: store, hub: events, queueNotices: queueNotices, logger: logger))
        if let endpoint = DatabaseURL.endpoint(configuration.databaseURL) {
            services.append(DatabaseWatch(endpoint: endpoint, readiness: readiness, logger: logger))
        }
        switch workers {
        case .none:
            break
        case .inProcess:
            services.append(GatedService(gate: gate, service: inProcessWorker))
            services.append(GatedService(gate: gate, service: webhookNotifier))
        case let .supervised(executable):
            _ = Self.metrics
            services.append(GatedService(gate: gate, service: WorkerSupervisor(
                executable: executable, plan: WorkerProcessPlan(configuration: configuration), children: children, store: store, metrics: workerMetrics,
                drainSeconds: configuration.worker.drainSeconds, zygote: zygote, logger: logger)))
            services.append(GatedService(gate: gate, service: webhookNotifier))
        }
        let admission = RequestAdmission(limit: configuration.maxRequestsInFlight)
        let app = Application(
            router: try makeRouter(inspector: inspector, imageRenderer: renderer),
            // At most KILN_MAX_REQUESTS_IN_FLIGHT requests held in memory at once.
            // Deadlines first: they time only the reads that admission lets through.
            server: .http1(configuration: .init(additionalChannelHandlers: [
                configuration.connectionDeadlines.handler(), admission.handler(),
            ])),
            // A burst of connections (10,000 clients uploading at once) overflows Hummingbird's
            // default accept queue of 256: the kernel falls back to SYN cookies and resets
            // some. The kernel caps this at net.core.somaxconn (4096 on Debian 12).
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kiln", backlog: 4096),
            services: services,
            logger: logger)
        return app
    }

    /// Workers only, for `kiln worker`. A supervised worker (a child of `kiln
    /// serve`, given the queue's notices its server relays) leaves webhooks to its server.
    public func makeWorkerGroup(relayedNotices: WorkerService.QueueNotices? = nil) -> ServiceGroup {
        var jobs = worker
        let supervised = relayedNotices != nil
        if let relayedNotices {
            jobs.notices = relayedNotices
            // Only a worker process of its own trims: in a process shared with the API (or a test
            // run's), malloc_trim would walk, under their locks, arenas that others are using.
            jobs.afterEachJob = { idle in
                if idle { MallocTuning.returnFreedMemory() }
                WorkerMetricsBoard.reportSoon()
            }
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: client), .init(service: migrationService(isServer: false)), .init(service: GatedService(gate: gate, service: jobs)),
        ]
        if !supervised { services.append(.init(service: GatedService(gate: gate, service: webhookNotifier))) }
        return ServiceGroup(configuration: .init(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
    }

    /// In a supervised worker: its metrics go to its server every 2 s (see `WorkerMetricsBoard`).
    public static func reportMetricsToSupervisor() {
        _ = metrics
        WorkerMetricsBoard.reportToSupervisor()
    }

    /// Applies pending migrations and returns, for `kiln migrate`.
    public func migrate() async throws -> [Int] {
        try await withThrowingTaskGroup(of: [Int]?.self) { group in
            group.addTask { await client.run(); return nil }
            defer { group.cancelAll() }
            return try await Migrator(client: client, logger: logger).migrate(schema: configuration.databaseSchema)
        }
    }
}
