import Crypto
import Foundation
import NIOCore
import KilnTestSupport
@testable import Storage
import Testing

/// What only the S3 store does, against the test S3 server (which checks signatures).
@Suite(.ownThreads) struct S3BlobStoreTests {
    func staged(_ store: S3BlobStore, bytes: [UInt8]) throws -> String {
        let path = store.stagingDirectory + "/" + UUID().uuidString
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ store: S3BlobStore, _ key: String, _ range: ClosedRange<Int>? = nil) async throws -> [UInt8] {
        var collected: [UInt8] = []
        try await store.read(key: key, range: range) { chunk in collected += chunk.readableBytesView }
        return collected
    }

    /// 12.5 MiB with 5 MiB parts: three parts, the last short; read back whole and across part edges.
    @Test func largeFilesGoUpInPartsAndReadBackExactly() async throws {
        let root = NSTemporaryDirectory() + "kiln-s3-" + UUID().uuidString
        let store = try S3BlobStore(location: try TestEnvironment.s3Location(), stagingDirectory: root, partSize: 5 << 20)
        try await store.createBucketIfMissing()
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<(12 << 20) + 512 * 1024).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try await store.put(key: "jobs/big/video.mp4", file: try staged(store, bytes: bytes))
        #expect(try await store.size(key: "jobs/big/video.mp4") == bytes.count)
        let whole = try await read(store, "jobs/big/video.mp4")
        #expect(SHA256.hash(data: whole) == SHA256.hash(data: bytes))
        let edge = (5 << 20) - 3...(5 << 20) + 3
        #expect(try await read(store, "jobs/big/video.mp4", edge) == Array(bytes[edge]))
        let tail = bytes.count - 10...bytes.count - 1
        #expect(try await read(store, "jobs/big/video.mp4", tail) == Array(bytes[tail]))
        // No multipart upload is left behind.
        let pending = try await store.send(.GET, key: nil, query: [("uploads", "")])
        let listing = String(buffer: try await pending.body.collect(upTo: 1 << 20))
        #expect(!listing.contains("<UploadId>"), "\(listing)")
    }

    @Test func aWrongSecretIsRefusedBySignature() async throws {
        let good = try S3BlobStore(location: try TestEnvironment.s3Location(), stagingDirectory: NSTemporaryDirectory() + "kiln-s3-" + UUID().uuidString)
        try await good.createBucketIfMissing()
        // HEAD answers carry no body, so S3's code comes with a GET.
        let bad = try S3BlobStore(location: try TestEnvironment.s3Location(bucket: good.location.bucket, secret: "not-the-secret"),
                                  stagingDirectory: good.stagingDirectory)
        do {
            _ = try await read(bad, "anything")
            Issue.record("a request signed with the wrong secret was answered")
        } catch let error as S3Error {
            #expect(error.status == 403)
            #expect(error.code == "SignatureDoesNotMatch")
        }
        await #expect(throws: S3Error.self) { try await bad.checkAccess() }
        try await good.checkAccess()
    }

    /// More keys than one listing page (1,000) and one batch delete (1,000) hold.
    @Test func listingAndDeletingPageThroughThousands() async throws {
        let store = try S3BlobStore(location: try TestEnvironment.s3Location(), stagingDirectory: NSTemporaryDirectory() + "kiln-s3-" + UUID().uuidString)
        try await store.createBucketIfMissing()
        let keys = (0..<1_100).map { "jobs/many/seg_\($0).ts" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for batch in stride(from: 0, to: keys.count, by: 100) {
                group.addTask {
                    for key in keys[batch..<batch + 100] { try await store.put(key: key, file: try staged(store, bytes: [1])) }
                }
            }
            try await group.waitForAll()
        }
        #expect(Set(try await store.list(prefix: "jobs/many/")) == Set(keys))
        try await store.deleteAll(prefix: "jobs/many/")
        #expect(try await store.list(prefix: "jobs/many/").isEmpty)
    }
}
