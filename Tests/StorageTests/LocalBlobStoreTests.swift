import Foundation
import NIOCore
import Storage
import Testing

@Suite struct LocalBlobStoreTests {
    func makeStore() throws -> LocalBlobStore {
        try LocalBlobStore(root: NSTemporaryDirectory() + "kiln-store-" + UUID().uuidString)
    }

    func stage(_ store: LocalBlobStore, _ text: String) throws -> String {
        let path = store.stagingDirectory + "/" + UUID().uuidString
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ store: LocalBlobStore, _ key: String, _ range: ClosedRange<Int>? = nil) async throws -> String {
        var collected = ByteBuffer()
        try await store.read(key: key, range: range) { chunk in
            var chunk = chunk
            collected.writeBuffer(&chunk)
        }
        return String(buffer: collected)
    }

    @Test func putMovesTheFileAndReadsHonourRanges() async throws {
        let store = try makeStore()
        let staged = try stage(store, "hello kiln")
        try await store.put(key: "jobs/j/out/a.txt", file: staged)
        #expect(!FileManager.default.fileExists(atPath: staged))
        #expect(try await store.size(key: "jobs/j/out/a.txt") == 10)
        #expect(try await read(store, "jobs/j/out/a.txt") == "hello kiln")
        #expect(try await read(store, "jobs/j/out/a.txt", 6...9) == "kiln")
        try await store.deleteAll(prefix: "jobs/j/")
        #expect(try await store.size(key: "jobs/j/out/a.txt") == nil)
    }

    @Test func listsKeysUnderADirectoryAndDeletesOne() async throws {
        let store = try makeStore()
        for key in ["jobs/j/1/out/a.txt", "jobs/j/1/out/b/c.txt", "jobs/j/2/x.txt", "jobs/k/y.txt"] {
            try await store.put(key: key, file: try stage(store, key))
        }
        #expect(Set(try await store.list(prefix: "jobs/j/")) == ["jobs/j/1/out/a.txt", "jobs/j/1/out/b/c.txt", "jobs/j/2/x.txt"])
        #expect(try await store.list(prefix: "jobs/none/").isEmpty)
        try await store.delete(key: "jobs/j/1/out/a.txt")
        try await store.delete(key: "jobs/j/1/out/a.txt")
        #expect(Set(try await store.list(prefix: "jobs/j/1/")) == ["jobs/j/1/out/b/c.txt"])
        #expect(try await read(store, "jobs/k/y.txt") == "jobs/k/y.txt")
    }

    @Test func keysCannotEscapeTheRoot() async throws {
        let store = try makeStore()
        for key in ["../etc/passwd", "/abs", "a//b", "a/./b", "a/../../b", ""] {
            await #expect(throws: BlobStoreError.invalidKey(key)) { _ = try await store.size(key: key) }
        }
    }

    @Test func missingObjectsAreNotFound() async throws {
        let store = try makeStore()
        #expect(try await store.size(key: "nothing/here") == nil)
        await #expect(throws: BlobStoreError.notFound("nothing/here")) { _ = try await read(store, "nothing/here") }
    }
}
