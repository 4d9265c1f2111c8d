import Egress
import JobStore
import PipelineEngine
import Prometheus
import Storage

/// Reads facts from an upload's headers (never its pixels or frames): image
/// dimensions from libvips, duration and dimensions from an FFmpeg probe.
/// Supplied by the executable, which is the only place that links the codecs.
public protocol MediaInspector: Sendable {
    func inspect(path: String, kind: MediaKind) async -> MediaFacts
}

public struct MediaFacts: Sendable, Equatable {
    public var width: Int?
    public var height: Int?
    public var duration: Double?

    public init(width: Int? = nil, height: Int? = nil, duration: Double? = nil) {
        self.width = width
        self.height = height
        self.duration = duration
    }
}

/// Everything the HTTP routes use.
public struct APIEnvironment: Sendable {
    public var store: JobStore
    public var blobs: any BlobStore
    public var registry: StageRegistry
    public var pipelines: PipelineLibrary
    public var inspector: any MediaInspector
    public var keys: APIKeyRing
    /// Base of absolute URLs handed out, without a trailing slash.
    public var publicURL: String
    public var uploadLimits: UploadLimits
    public var metrics: PrometheusCollectorRegistry
    public var readiness: Readiness
    public var playback: PlaybackSigner
    /// Wakes event streams when NOTIFY announces a job's new events.
    public var events: EventHub
    /// Reads of jobs that can no longer change, kept encoded.
    var settledJobs: ReadCache<ConditionalGET.Encoded> { events.settledJobs }
    /// Each API key's rate limit; nil: none.
    public var rateLimiter: RateLimiter?
    /// Where jobs' own webhooks may point: judged at submission, and again by the notifier as it connects.
    public var webhookEgress = EgressPolicy()
    /// After a tenant rotates its webhook secret, how long the one before keeps signing.
    public var webhookRotationOverlapSeconds: Double = 86_400
    /// Expositions of other processes to serve merged with this one's (`kiln serve`'s supervised workers).
    public var workerMetrics: (@Sendable () -> [String])?
    /// When set, `/metrics` answers only `Authorization: Bearer <token>`.
    public var metricsToken: String?
    /// What each tenant may hold: running and queued jobs, stored bytes.
    public var tenantLimits = TenantLimitsTable()
    /// Event streams and long polls each API key holds open.
    public var longRequests = LongRequests(limit: 64)
    /// Image URLs (`/img/…`): where renderings are kept, and what renders them; nil serves none.
    public var imageCache: ImageResultCache?
    public var imageRenderer: (any ImageRenderer)?
    /// Image URLs already parsed and verified here.
    let imageURLMemo = ImageURLMemo()
    /// Where image URLs may fetch sources from besides the tenant's media (`KILN_IMAGE_ORIGINS`).
    public var imageOrigins = ImageOrigins()
    /// Job counts by status for `/metrics`, kept a while (a count over every job on each scrape is not cheap).
    let jobCounts = CachedJobCounts()

    public init(store: JobStore, blobs: any BlobStore, registry: StageRegistry, pipelines: PipelineLibrary,
                inspector: any MediaInspector, keys: APIKeyRing, publicURL: String, uploadLimits: UploadLimits,
                metrics: PrometheusCollectorRegistry, readiness: Readiness, playback: PlaybackSigner, events: EventHub,
                rateLimiter: RateLimiter? = nil) {
        self.rateLimiter = rateLimiter
        self.playback = playback
        self.events = events
        self.store = store
        self.blobs = blobs
        self.registry = registry
        self.pipelines = pipelines
        self.inspector = inspector
        self.keys = keys
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.uploadLimits = uploadLimits
        self.metrics = metrics
        self.readiness = readiness
    }
}

extension APIEnvironment {
    /// The tenant's media record, from memory when this process read it in the
    /// last minute (records never change; a deletion's NOTIFY drops them); nil
    /// once past its expiry, though retention has not removed it yet.
    func media(id: String, tenant: String) async throws -> MediaRecord? {
        if let cached = events.media.get(tenant: tenant, id: id) { return cached.hasExpired ? nil : cached }
        let mark = events.media.mark()
        guard let record = try await store.media(id: id, tenant: tenant) else { return nil }
        events.media.put(tenant: tenant, id: id, record, readAt: mark)
        return record.hasExpired ? nil : record
    }

    /// Why `id` (a `med_` or `job_` of `tenant`) is not there: 410 `expired` when
    /// it expired (media past its `expiresIn`, or a job made from such media),
    /// else 404.
    func absence(_ what: String, id: String, tenant: String) async -> APIError {
        var expired = (try? await store.expired(id: id, tenant: tenant)) == true
        if !expired, id.hasPrefix("med_") {
            // Past its expiry, not yet removed by retention.
            expired = (try? await store.media(id: id, tenant: tenant))?.hasExpired == true
        }
        guard expired else { return .notFound(what) }
        return APIError(.gone, code: "expired", message: "\(what) \(id) expired and was removed")
    }
}
