import Foundation
import NIOCore
import Storage
import KilnTestSupport
import Testing

/// What every blob store promises, run against each store Kiln has.
@Suite(.ownThreads) struct BlobStoreContractTests {
    func stage(_ store: any BlobStore, _ text: String) throws -> String {
        let path = store.stagingDirectory + "/" + UUID().uuidString
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ store: any BlobStore, _ key: String, _ range: ClosedRange<Int>? = nil) async throws -> String {
        var collected = ByteBuffer()
        try await store.read(key: key, range: range) { chunk in
            var chunk = chunk
            collected.writeBuffer(&chunk)
        }
        return String(buffer: collected)
    }

    @Test(arguments: StoreKind.allCases)
    func putConsumesTheFileAndReadsHonourRanges(kind: StoreKind) async throws {
        let store = try await kind.make()
        let staged = try stage(store, "hello kiln")
        try await store.put(key: "jobs/j/out/a.txt", file: staged)
        #expect(!FileManager.default.fileExists(atPath: staged))
        #expect(try await store.size(key: "jobs/j/out/a.txt") == 10)
        #expect(try await read(store, "jobs/j/out/a.txt") == "hello kiln")
        #expect(try await read(store, "jobs/j/out/a.txt", 6...9) == "kiln")
        #expect(try await read(store, "jobs/j/out/a.txt", 0...0) == "h")
        // Replacing an object is whole.
        try await store.put(key: "jobs/j/out/a.txt", file: try stage(store, "second"))
        #expect(try await read(store, "jobs/j/out/a.txt") == "second")
        try await store.deleteAll(prefix: "jobs/j/")
        #expect(try await store.size(key: "jobs/j/out/a.txt") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func listsKeysUnderADirectoryAndDeletesOne(kind: StoreKind) async throws {
        let store = try await kind.make()
        for key in ["jobs/j/1/out/a.txt", "jobs/j/1/out/b/c.txt", "jobs/j/2/x.txt", "jobs/k/y.txt", "jobs/jj/z.txt"] {
            try await store.put(key: key, file: try stage(store, key))
        }
        #expect(Set(try await store.list(prefix: "jobs/j/")) == ["jobs/j/1/out/a.txt", "jobs/j/1/out/b/c.txt", "jobs/j/2/x.txt"])
        #expect(try await store.list(prefix: "jobs/none/").isEmpty)
        try await store.delete(key: "jobs/j/1/out/a.txt")
        try await store.delete(key: "jobs/j/1/out/a.txt")
        #expect(Set(try await store.list(prefix: "jobs/j/1/")) == ["jobs/j/1/out/b/c.txt"])
        #expect(try await read(store, "jobs/k/y.txt") == "jobs/k/y.txt")
    }

    /// `deleteAll("media/t/m1")` takes the object (or directory) `media/t/m1`, never `media/t/m10`.
    @Test(arguments: StoreKind.allCases)
    func deletingAPrefixWithoutASlashTakesThatNameOnly(kind: StoreKind) async throws {
        let store = try await kind.make()
        for key in ["media/t/m1", "media/t/m10", "jobs/x/1/a", "jobs/x/1/b/c", "jobs/x10/a"] {
            try await store.put(key: key, file: try stage(store, key))
        }
        try await store.deleteAll(prefix: "media/t/m1")
        try await store.deleteAll(prefix: "jobs/x")
        #expect(try await store.size(key: "media/t/m1") == nil)
        #expect(try await store.size(key: "media/t/m10") == 11)
        #expect(try await store.list(prefix: "jobs/x/").isEmpty)
        #expect(try await store.list(prefix: "jobs/x10/") == ["jobs/x10/a"])
    }

    @Test(arguments: StoreKind.allCases)
    func localFilesHoldTheObjectsBytes(kind: StoreKind) async throws {
        let store = try await kind.make()
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let staged = store.stagingDirectory + "/" + UUID().uuidString
        try Data(bytes).write(to: URL(fileURLWithPath: staged))
        try await store.put(key: "media/t/video", file: staged)
        let scratch = NSTemporaryDirectory() + "kiln-scratch-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let path = try await store.localFile(key: "media/t/video", scratch: scratch)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
        await #expect(throws: BlobStoreError.notFound("media/t/none")) { _ = try await store.localFile(key: "media/t/none", scratch: scratch) }
    }

    /// What reuse of identical work stands on: a copy reads back whole and outlives its source.
    @Test(arguments: StoreKind.allCases)
    func copiesAreWholeAndIndependent(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.put(key: "jobs/a/1/out/x.webp", file: try stage(store, "the earlier job's file"))
        try await store.copy(from: "jobs/a/1/out/x.webp", to: "jobs/b/7/out/x.webp")
        try await store.deleteAll(prefix: "jobs/a/")
        #expect(try await read(store, "jobs/b/7/out/x.webp") == "the earlier job's file")
        await #expect(throws: BlobStoreError.notFound("jobs/a/1/out/x.webp")) {
            try await store.copy(from: "jobs/a/1/out/x.webp", to: "jobs/c/1/out/x.webp")
        }
        #expect(try await store.size(key: "jobs/c/1/out/x.webp") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func keysCannotEscapeTheRoot(kind: StoreKind) async throws {
        let store = try await kind.make()
        for key in ["../etc/passwd", "/abs", "a//b", "a/./b", "a/../../b", ""] {
            await #expect(throws: BlobStoreError.invalidKey(key)) { _ = try await store.size(key: key) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func missingObjectsAreNotFound(kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.size(key: "nothing/here") == nil)
        await #expect(throws: BlobStoreError.notFound("nothing/here")) { _ = try await read(store, "nothing/here") }
    }
}
