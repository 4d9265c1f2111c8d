import NIOCore

/// A store with a read replica, for deployments that mirror their bucket
/// elsewhere (another region, another provider): everything is written to and
/// deleted from the primary only (the mirroring is the deployment's), and a
/// read that the primary cannot answer (the object is missing there, or the
/// primary fails) is answered from the replica. A read that fails after bytes
/// went out is not restarted elsewhere: the reader would get them twice.
public struct ReplicatedBlobStore: BlobStore {
    public let primary: any BlobStore
    public let replica: any BlobStore
    /// Told of every read the replica answered: the key, and the primary's error (nil: it lacked the object).
    let onFallback: @Sendable (_ key: String, _ primaryError: (any Error)?) -> Void

    public init(primary: any BlobStore, replica: any BlobStore,
                onFallback: @escaping @Sendable (_ key: String, _ primaryError: (any Error)?) -> Void = { _, _ in }) {
        self.primary = primary
        self.replica = replica
        self.onFallback = onFallback
    }

    public var stagingDirectory: String { primary.stagingDirectory }

    public func put(key: String, file: String) async throws { try await primary.put(key: key, file: file) }
    public func deleteAll(prefix: String) async throws { try await primary.deleteAll(prefix: prefix) }
    public func delete(key: String) async throws { try await primary.delete(key: key) }
    public func copy(from source: String, to destination: String) async throws { try await primary.copy(from: source, to: destination) }
    public func list(prefix: String) async throws -> [String] { try await primary.list(prefix: prefix) }

    public func size(key: String) async throws -> Int? {
        do {
            if let size = try await primary.size(key: key) { return size }
            guard let size = try await replica.size(key: key) else { return nil }
            onFallback(key, nil)
            return size
        } catch {
            guard let size = try await replica.size(key: key) else { throw error }
            onFallback(key, error)
            return size
        }
    }

    public func read(key: String, range: ClosedRange<Int>?, into sink: (ByteBuffer) async throws -> Void) async throws {
        var sent = false
        do {
            try await primary.read(key: key, range: range) { chunk in
                sent = true
                try await sink(chunk)
            }
        } catch {
            guard !sent else { throw error }
            try await replica.read(key: key, range: range, into: sink)
            onFallback(key, Self.missing(error) ? nil : error)
        }
    }

    public func localFile(key: String, scratch: String) async throws -> String {
        do {
            return try await primary.localFile(key: key, scratch: scratch)
        } catch {
            let path = try await replica.localFile(key: key, scratch: scratch)
            onFallback(key, Self.missing(error) ? nil : error)
            return path
        }
    }

    /// Both must be usable: a replica set wrong would only show when it is needed.
    public func checkAccess() async throws {
        try await primary.checkAccess()
        try await replica.checkAccess()
    }

    static func missing(_ error: any Error) -> Bool {
        if case .notFound = error as? BlobStoreError { return true }
        return false
    }
}
