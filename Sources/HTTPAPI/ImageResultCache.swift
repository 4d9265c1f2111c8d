import Crypto
import Foundation
import JobStore
import Logging
import Metrics
import NIOCore
import PipelineEngine
import Storage
import Synchronization

/// Renderings of image URLs, shared by every replica through the blob store
/// (`image-cache/…`) and indexed in PostgreSQL for eviction (least recently
/// used, by bytes). In front of the store, each process keeps its hottest
/// renderings in memory, so a warm hit touches neither disk nor network.
///
/// A cold URL renders once however many ask at the same moment: within a
/// process the first request renders and the rest wait for it; across the
/// processes of a host, a lock file (one of 4,096, by key) makes a second
/// process wait and then read what the first stored.
public final class ImageResultCache: Sendable {
    public struct Configuration: Sendable {
        /// What the store may hold in all, across tenants (`KILN_IMAGE_CACHE_MB`).
        public var storeBytes = 1 << 30
        /// What each process holds in memory (`KILN_IMAGE_MEMORY_CACHE_MB`).
        public var memoryBytes = 64 << 20
        /// Cold renders one tenant may have under way in a process at once (`KILN_IMAGE_MAX_RENDERS_PER_TENANT`).
        public var maxRendersPerTenant = 16
        /// Each render's own directory is made here; lock files live in `locks/` below it.
        public var scratchDirectory = NSTemporaryDirectory() + "kiln-images"

        public init() {}
    }

    /// A rendering as it is served.
    public struct Rendering: Sendable {
        public var body: ByteBuffer
        public var contentType: String
    }

    struct Memory {
        var entries: [String: (rendering: Rendering, used: UInt64)] = [:]
        var bytes = 0
        var tick: UInt64 = 0
    }

    let configuration: Configuration
    let store: JobStore
    let blobs: any BlobStore
    let logger: Logger
    private let memory = Mutex(Memory())
    private let flights = Mutex<[String: Task<Rendering, any Error>]>([:])
    private let renderingTenants = Mutex<[String: Int]>([:])
    private let served = Mutex<Set<String>>([])

    public init(configuration: Configuration, store: JobStore, blobs: any BlobStore, logger: Logger) {
        self.configuration = configuration
        self.store = store
        self.blobs = blobs
        self.logger = logger
    }

    /// A rendering's key: the tenant, what the source is (its SHA-256, or its
    /// URL), and the canonical operations. `version` changes when an upgrade
    /// renders the same request differently.
    public static func key(tenant: String, source: String, operations: String) -> String {
        let version = "kiln-img-1"
        return Hex.encode(SHA256.hash(data: Data([version, tenant, source, operations].joined(separator: "\n").utf8)))
    }

    static func blobKey(_ key: String) -> String { "image-cache/\(key.prefix(2))/\(key)" }

    /// The rendering under `key` from memory or the store; nil when there is none.
    public func cached(_ key: String) async throws -> Rendering? {
        if let rendering = fromMemory(key) {
            served.withLock { _ = $0.insert(key) }
            return rendering
        }
        guard let rendering = try await fromStore(key) else { return nil }
        remember(key, rendering)
        served.withLock { _ = $0.insert(key) }
        return rendering
    }

    private func fromMemory(_ key: String) -> Rendering? {
        memory.withLock { memory in
            guard var entry = memory.entries[key] else { return nil }
            memory.tick += 1
            entry.used = memory.tick
            memory.entries[key] = entry
            return entry.rendering
        }
    }

    private func fromStore(_ key: String) async throws -> Rendering? {
        var body = ByteBuffer()
        do {
            try await blobs.read(key: Self.blobKey(key), range: nil) { chunk in
                var chunk = chunk
                body.writeBuffer(&chunk)
            }
        } catch BlobStoreError.notFound {
            return nil
        }
        guard let type = MediaSniffer.sniff(Array(body.readableBytesView.prefix(MediaSniffer.prefixLength))) else { return nil }
        return Rendering(body: body, contentType: type.contentType)
    }

    /// Keeps `rendering` in memory, dropping the least recently used beyond the budget.
    private func remember(_ key: String, _ rendering: Rendering) {
        let size = rendering.body.readableBytes
        guard size <= configuration.memoryBytes / 8 else { return }
        memory.withLock { memory in
            memory.tick += 1
            if let old = memory.entries.updateValue((rendering, memory.tick), forKey: key) { memory.bytes -= old.rendering.body.readableBytes }
            memory.bytes += size
            guard memory.bytes > configuration.memoryBytes else { return }
            // Down to 90 % in one pass, so the sort is paid once per many insertions.
            for (key, entry) in memory.entries.sorted(by: { $0.value.used < $1.value.used }) {
                guard memory.bytes > configuration.memoryBytes * 9 / 10 else { break }
                memory.entries.removeValue(forKey: key)
                memory.bytes -= entry.rendering.body.readableBytes
            }
        }
    }

    /// Renders what `key` names once, however many ask at once, stores it and
    /// returns it, with whether this call was the one that rendered (the
    /// others waited for it). `render` is given a directory of its own to
    /// write into; what it throws reaches every request waiting for it. Throws 429 when `tenant` already has its most cold renders
    /// under way.
    public func render(_ key: String, tenant: String, source: String,
                       _ render: @escaping @Sendable (String) async throws -> ImageRenderOutcome) async throws -> (Rendering, rendered: Bool) {
        let (flight, led): (Task<Rendering, any Error>, Bool) = try flights.withLock { running in
            if let flight = running[key] { return (flight, false) }
            let admitted = renderingTenants.withLock { counts in
                guard counts[tenant, default: 0] < configuration.maxRendersPerTenant else { return false }
                counts[tenant, default: 0] += 1
                return true
            }
            guard admitted else {
                Counter(label: "kiln_image_requests_total", dimensions: [("result", "refused")]).increment()
                var error = APIError(.tooManyRequests, code: "too_many_renders",
                                     message: "This tenant has \(configuration.maxRendersPerTenant) images rendering; try again shortly")
                error.headers[.retryAfter] = "1"
                throw error
            }
            let task = Task { [self] in
                defer {
                    flights.withLock { _ = $0.removeValue(forKey: key) }
                    renderingTenants.withLock { counts in
                        counts[tenant, default: 1] -= 1
                        if counts[tenant] == 0 { counts.removeValue(forKey: tenant) }
                    }
                }
                return try await renderHoldingHostLock(key, tenant: tenant, source: source, render)
            }
            running[key] = task
            return (task, true)
        }
        return (try await flight.value, led)
    }

    private func renderHoldingHostLock(_ key: String, tenant: String, source: String,
                                       _ render: @escaping @Sendable (String) async throws -> ImageRenderOutcome) async throws -> Rendering {
        let lock = try await HostLock.acquire(directory: configuration.scratchDirectory + "/locks", stripe: String(key.prefix(3)))
        defer { lock.release() }
        // Another process of this host may have rendered it while this one waited.
        if let stored = try await fromStore(key) {
            remember(key, stored)
            return stored
        }
        let directory = configuration.scratchDirectory + "/" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let started = ContinuousClock.now
        let outcome = try await render(directory)
        let elapsed = (ContinuousClock.now - started).components
        Timer(label: "kiln_image_render_seconds").recordNanoseconds(elapsed.seconds * 1_000_000_000 + elapsed.attoseconds / 1_000_000_000)
        switch outcome {
        case let .rendered(path, contentType):
            Counter(label: "kiln_image_renders_total", dimensions: [("result", "ok")]).increment()
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            // The index row first: a row whose bytes never arrived costs nothing, bytes without a row would never be evicted.
            try await store.recordImageCacheEntry(key: Self.blobKey(key), tenant: tenant, source: source, bytes: bytes.count)
            try await blobs.put(key: Self.blobKey(key), file: path)
            Counter(label: "kiln_image_cache_stored_bytes_total").increment(by: bytes.count)
            let rendering = Rendering(body: ByteBuffer(bytes: bytes), contentType: contentType)
            remember(key, rendering)
            return rendering
        case let .failed(code, message):
            Counter(label: "kiln_image_renders_total", dimensions: [("result", "failed")]).increment()
            throw APIError(.unprocessableContent, code: code, message: message)
        case let .unavailable(reason):
            Counter(label: "kiln_image_renders_total", dimensions: [("result", "unavailable")]).increment()
            var error = APIError(.serviceUnavailable, code: "render_unavailable", message: "The image could not be rendered now: \(reason)")
            error.headers[.retryAfter] = "1"
            throw error
        }
    }

    /// Marks what was served as used, every few seconds, and keeps the store
    /// within its budget, until cancelled.
    public func maintain(every interval: Duration = .seconds(5), evictEvery: Int = 6) async {
        var rounds = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flushServed()
            rounds += 1
            if rounds % evictEvery == 0 { _ = try? await evict() }
        }
    }

    /// Marks what this process served since the last call as used (the maintenance loop's step; tests call it).
    public func flushServed() async {
        let keys = served.withLock { served in
            defer { served.removeAll(keepingCapacity: true) }
            return served.map(Self.blobKey)
        }
        do {
            try await store.touchImageCacheEntries(keys)
        } catch {
            logger.debug("marking image cache entries used failed", metadata: ["error": "\(error)"])
        }
    }

    /// Removes the least recently used renderings beyond the budget; how many went.
    @discardableResult
    public func evict() async throws -> Int {
        let deletions = try await store.evictImageCache(over: configuration.storeBytes)
        for deletion in deletions {
            let key = String(deletion.prefix.split(separator: "/").last ?? "")
            memory.withLock { memory in
                if let entry = memory.entries.removeValue(forKey: key) { memory.bytes -= entry.rendering.body.readableBytes }
            }
            do {
                try await blobs.deleteAll(prefix: deletion.prefix)
                try await store.finishBlobDeletion(deletion.id)
            } catch {
                continue  // retention retries recorded deletions
            }
        }
        if !deletions.isEmpty { Counter(label: "kiln_image_cache_evictions_total").increment(by: deletions.count) }
        return deletions.count
    }
}

/// One of a fixed set of lock files, held with `flock`: what serializes a
/// render across the processes of one host. Taken without blocking a thread
/// (tried every few milliseconds).
struct HostLock {
    let descriptor: Int32

    static func acquire(directory: String, stripe: String) async throws -> HostLock {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let descriptor = open(directory + "/" + stripe + ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw APIError(.internalServerError, code: "internal", message: "cannot open a render lock") }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            do {
                try await Task.sleep(for: .milliseconds(5))
            } catch {
                close(descriptor)
                throw error
            }
        }
        return HostLock(descriptor: descriptor)
    }

    /// Closing the file releases the lock.
    func release() { close(descriptor) }
}
