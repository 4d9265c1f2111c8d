import Foundation
import HTTPAPI
import KilnApp
import KilnTestSupport
import PipelineEngine
import Synchronization
import Testing

/// The result cache of image URLs on a real PostgreSQL and a real blob store.
/// The render itself is the parameter under test here (a closure writing a
/// real PNG), so these can hold a render open as long as they need.
@Suite(.ownThreads) struct ImageResultCacheTests {
    /// Writes a real image file of `bytes` size-ish into the render's directory.
    static func renderPNG(_ directory: String, padding: Int = 0) -> ImageRenderOutcome {
        let path = directory + "/out.png"
        var data = try! Fixture.data("alpha.png")
        data.append(Data(repeating: 0, count: padding))  // after IEND: still sniffed and decoded as PNG
        _ = FileManager.default.createFile(atPath: path, contents: data)
        return .rendered(path: path, contentType: "image/png")
    }

    static func cache(_ kiln: Kiln, scratch: String, configure: (inout ImageResultCache.Configuration) -> Void = { _ in }) -> ImageResultCache {
        var configuration = ImageResultCache.Configuration()
        configuration.scratchDirectory = scratch
        configure(&configuration)
        return ImageResultCache(configuration: configuration, store: kiln.store, blobs: kiln.blobs, logger: kiln.logger)
    }

    @Test func aTenantsColdRendersAreCappedAndOthersAreNot() async throws {
        try await withMigratedKiln { kiln in
            let cache = Self.cache(kiln, scratch: NSTemporaryDirectory() + "kiln-cap-" + UUID().uuidString) { $0.maxRendersPerTenant = 1 }
            let (released, release) = AsyncStream<Void>.makeStream()
            let started = Tally()
            let holding = Task {
                try await cache.render("a1", tenant: "tenant-a", source: "sha256:test") { directory in
                    started.add()
                    for await _ in released { break }
                    return Self.renderPNG(directory)
                }
            }
            while started.count == 0 { try await Task.sleep(for: .milliseconds(5)) }
            await #expect(throws: APIError.self) { _ = try await cache.render("a2", tenant: "tenant-a", source: "sha256:test") { Self.renderPNG($0) } }
            do {
                _ = try await cache.render("a3", tenant: "tenant-a", source: "sha256:test") { Self.renderPNG($0) }
            } catch let error as APIError {
                #expect(error.status == .tooManyRequests && error.code == "too_many_renders")
            }
            // Another tenant is not held back.
            #expect(try await cache.render("b1", tenant: "tenant-b", source: "sha256:test") { Self.renderPNG($0) }.rendered)
            release.yield()
            #expect(try await holding.value.rendered)
            // Its render over, the tenant may render again.
            #expect(try await cache.render("a2", tenant: "tenant-a", source: "sha256:test") { Self.renderPNG($0) }.rendered)
        }
    }

    /// Two caches with one scratch directory are two processes of one host: a render in one makes the other wait, then read.
    @Test func twoProcessesOfAHostRenderAKeyOnce() async throws {
        try await withMigratedKiln { kiln in
            let scratch = NSTemporaryDirectory() + "kiln-host-" + UUID().uuidString
            let caches = [Self.cache(kiln, scratch: scratch), Self.cache(kiln, scratch: scratch)]
            let renders = Tally()
            let results = try await withThrowingTaskGroup(of: ImageResultCache.Rendering.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        try await caches[index % 2].render("shared", tenant: "tenant-a", source: "sha256:test") { directory in
                            renders.add()
                            try? await Task.sleep(for: .milliseconds(200))
                            return Self.renderPNG(directory)
                        }.0
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(renders.count == 1)
            #expect(Set(results.map(\.body)).count == 1 && results.allSatisfy { $0.contentType == "image/png" })
        }
    }

    @Test func theLeastRecentlyUsedGoFirstWhenTheStoreIsOverBudget() async throws {
        try await withMigratedKiln { kiln in
            let size = try Fixture.data("alpha.png").count + 10_000
            // Room for three renderings.
            let cache = Self.cache(kiln, scratch: NSTemporaryDirectory() + "kiln-lru-" + UUID().uuidString) {
                $0.storeBytes = size * 3 + size / 2
                $0.memoryBytes = 0
            }
            for key in ["k1", "k2", "k3"] {
                _ = try await cache.render(key, tenant: "tenant-a", source: "sha256:test") { Self.renderPNG($0, padding: 10_000) }
                try await Task.sleep(for: .milliseconds(20))  // distinct times of use
            }
            // k1 is read again, so k2 is now the least recently used.
            #expect(try await cache.cached("k1") != nil)
            await cache.flushServed()
            _ = try await cache.render("k4", tenant: "tenant-a", source: "sha256:test") { Self.renderPNG($0, padding: 10_000) }
            #expect(try await cache.evict() == 1)
            #expect(try await cache.cached("k2") == nil, "evicted from the store")
            for key in ["k1", "k3", "k4"] { #expect(try await cache.cached(key) != nil, "\(key) kept") }
            #expect(try await kiln.blobs.list(prefix: "image-cache/").count == 3)
            #expect(try await kiln.store.imageCacheBytes(tenant: "tenant-a").all == size * 3)
            #expect(try await kiln.store.pendingBlobDeletions().isEmpty)
        }
    }
}

/// A count shared by concurrent closures.
final class Tally: Sendable {
    private let value = Mutex(0)
    func add() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}
