import NIOCore

/// Where uploads and outputs live: a local directory, or (later) an S3 bucket
/// shared by every machine. Keys are `/`-separated paths without a leading slash.
public protocol BlobStore: Sendable {
    /// A directory on this machine for files being written before `put`.
    var stagingDirectory: String { get }

    /// Publishes a finished local file under `key`, replacing any previous object.
    /// The file is consumed. Readers see either nothing or the whole object.
    func put(key: String, file: String) async throws

    /// The object's size in bytes, or nil when it does not exist.
    func size(key: String) async throws -> Int?

    /// Streams the object (or the byte range) in chunks.
    func read(key: String, range: ClosedRange<Int>?, into sink: (ByteBuffer) async throws -> Void) async throws

    /// Makes the object available as a local file for C libraries to open, and
    /// returns its path. `scratch` is a directory the caller owns and cleans up.
    func localFile(key: String, scratch: String) async throws -> String

    /// Deletes every object whose key starts with `prefix`.
    func deleteAll(prefix: String) async throws

    /// Every key under `prefix` (a directory: it ends with `/`), in no order.
    func list(prefix: String) async throws -> [String]

    /// Deletes one object; nothing happens when it does not exist.
    func delete(key: String) async throws

    /// A copy of `source` under `destination`, made inside the store (no bytes
    /// through this process when the store can avoid it). Throws `notFound`
    /// when `source` does not exist.
    func copy(from source: String, to destination: String) async throws

    /// Whether the store can be used at all (a bucket that exists, credentials it accepts),
    /// asked once at start-up so a wrong setting fails there, not at the first upload.
    func checkAccess() async throws
}

public enum BlobStoreError: Error, Equatable {
    case notFound(String)
    case invalidKey(String)
}

extension BlobStore {
    /// A local directory, created when the store was, needs no check.
    public func checkAccess() async throws {}

    /// Rejects keys that could escape the store's root.
    static func validate(_ key: String) throws {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        if key.isEmpty || key.hasPrefix("/") || parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            throw BlobStoreError.invalidKey(key)
        }
    }
}
