import Foundation
import KilnTestSupport
import NIOCore
import Storage
import Synchronization
import Testing

/// A store with a read replica: writes go to the primary only; what the primary
/// lacks, or cannot serve because it fails, is read from the replica.
@Suite(.ownThreads) struct ReplicatedBlobStoreTests {
    final class Fallbacks: Sendable {
        let seen = Mutex<[(key: String, failed: Bool)]>([])
        func record(_ key: String, _ error: (any Error)?) { seen.withLock { $0.append((key, error != nil)) } }
        var all: [(key: String, failed: Bool)] { seen.withLock { $0 } }
    }

    static func put(_ text: String, _ key: String, in store: any BlobStore) async throws {
        let path = store.stagingDirectory + "/" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: store.stagingDirectory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try await store.put(key: key, file: path)
    }

    static func read(_ key: String, from store: any BlobStore, range: ClosedRange<Int>? = nil) async throws -> String {
        var bytes = ByteBuffer()
        try await store.read(key: key, range: range) { chunk in
            var chunk = chunk
            bytes.writeBuffer(&chunk)
        }
        return String(buffer: bytes)
    }

    static func local() throws -> LocalBlobStore { try LocalBlobStore(root: NSTemporaryDirectory() + "kiln-store-" + UUID().uuidString) }

    @Test(arguments: StoreKind.allCases)
    func whatThePrimaryLacksIsReadFromTheReplica(_ replicaKind: StoreKind) async throws {
        let primary = try Self.local(), replica = try await replicaKind.make(), fallbacks = Fallbacks()
        let store = ReplicatedBlobStore(primary: primary, replica: replica, onFallback: fallbacks.record)
        try await Self.put("only in the mirror", "jobs/a/thumb.webp", in: replica)
        try await Self.put("in both, primary", "jobs/b/thumb.webp", in: primary)
        try await Self.put("in both, mirror", "jobs/b/thumb.webp", in: replica)

        #expect(try await store.size(key: "jobs/a/thumb.webp") == 18)
        #expect(try await Self.read("jobs/a/thumb.webp", from: store) == "only in the mirror")
        #expect(try await Self.read("jobs/a/thumb.webp", from: store, range: 5...6) == "in")
        let local = try await store.localFile(key: "jobs/a/thumb.webp", scratch: NSTemporaryDirectory())
        #expect(try String(contentsOfFile: local, encoding: .utf8) == "only in the mirror")
        #expect(try await Self.read("jobs/b/thumb.webp", from: store) == "in both, primary", "the primary answers what it has")
        #expect(try await store.size(key: "jobs/none") == nil)
        await #expect(throws: BlobStoreError.notFound("jobs/none")) { try await Self.read("jobs/none", from: store) }
        #expect(fallbacks.all.allSatisfy { $0.key == "jobs/a/thumb.webp" && !$0.failed } && fallbacks.all.count == 4, "\(fallbacks.all)")

        // Writes and deletions are the primary's alone: the mirroring is the deployment's.
        try await Self.put("new", "jobs/c/x", in: store)
        #expect(try await primary.size(key: "jobs/c/x") == 3)
        #expect(try await replica.size(key: "jobs/c/x") == nil)
        try await store.delete(key: "jobs/b/thumb.webp")
        #expect(try await primary.size(key: "jobs/b/thumb.webp") == nil)
        #expect(try await replica.size(key: "jobs/b/thumb.webp") == 15)
    }

    /// A primary that fails every request (the S3 server refuses its signature with 403): every read is the replica's.
    @Test func aFailingPrimaryIsReadAround() async throws {
        let root = NSTemporaryDirectory() + "kiln-store-" + UUID().uuidString
        var refused = try TestEnvironment.s3Location()
        refused.credentials = .init(accessKeyID: refused.credentials.accessKeyID, secretAccessKey: "not-the-secret")
        let primary = try S3BlobStore(location: refused, stagingDirectory: root + "/staging")
        let replica = try Self.local(), fallbacks = Fallbacks()
        let store = ReplicatedBlobStore(primary: primary, replica: replica, onFallback: fallbacks.record)
        try await Self.put("served anyway", "media/t/med_1", in: replica)
        #expect(try await store.size(key: "media/t/med_1") == 13)
        #expect(try await Self.read("media/t/med_1", from: store) == "served anyway")
        #expect(fallbacks.all.count == 2 && fallbacks.all.allSatisfy(\.failed), "\(fallbacks.all)")
    }
}
