import Foundation
import NIOCore
import NIOFileSystem

/// A blob store in one local directory: objects under `objects/`, staging under
/// `staging/`. Both sit on one file system, so publishing is a `rename`, which
/// is atomic.
public struct LocalBlobStore: BlobStore {
    public let root: String
    public let stagingDirectory: String
    private let objects: String

    public init(root: String) throws {
        self.root = root
        objects = root + "/objects"
        stagingDirectory = root + "/staging"
        try FileManager.default.createDirectory(atPath: objects, withIntermediateDirectories: true, attributes: Self.privateDirectory)
        try FileManager.default.createDirectory(atPath: stagingDirectory, withIntermediateDirectories: true, attributes: Self.privateDirectory)
        // Tenants' files are nobody else's business on this machine: the store is
        // closed to other local users (directories made by older versions included).
        for directory in [root, objects, stagingDirectory] { chmod(directory, 0o700) }
        removeAbandonedStagingFiles(olderThan: 24 * 3600)
    }

    /// Uploads cut off by a crash leave staging files behind; none lives a day.
    func removeAbandonedStagingFiles(olderThan seconds: TimeInterval) {
        let cutoff = Date().addingTimeInterval(-seconds)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: stagingDirectory)) ?? [] {
            let path = stagingDirectory + "/" + name
            if let modified = try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date, modified < cutoff {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    static var privateDirectory: [FileAttributeKey: Any] { [.posixPermissions: 0o700] }

    func path(for key: String) throws -> String {
        try Self.validate(key)
        return objects + "/" + key
    }

    public func put(key: String, file: String) async throws {
        let destination = try path(for: key)
        let directory = (destination as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: Self.privateDirectory)
        // Before it is published: the file is never readable by others under its final name.
        chmod(file, 0o600)
        if rename(file, destination) != 0 {
            // Different file systems (a scratch dir elsewhere): copy, then rename into place.
            let temporary = destination + ".partial-\(UUID().uuidString)"
            try FileManager.default.copyItem(atPath: file, toPath: temporary)
            chmod(temporary, 0o600)
            guard rename(temporary, destination) == 0 else {
                try? FileManager.default.removeItem(atPath: temporary)
                throw CocoaError(.fileWriteUnknown)
            }
            try? FileManager.default.removeItem(atPath: file)
        }
    }

    public func size(key: String) async throws -> Int? {
        let path = try path(for: key)
        guard let info = try await FileSystem.shared.info(forFileAt: FilePath(path)), info.type == .regular else { return nil }
        return Int(info.size)
    }

    public func read(key: String, range: ClosedRange<Int>?, into sink: (ByteBuffer) async throws -> Void) async throws {
        let path = try path(for: key)
        do {
            try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                let chunks: FileChunks
                if let range {
                    chunks = handle.readChunks(in: Int64(range.lowerBound)..<Int64(range.upperBound + 1), chunkLength: .kibibytes(128))
                } else {
                    chunks = handle.readChunks(chunkLength: .kibibytes(128))
                }
                for try await chunk in chunks { try await sink(chunk) }
            }
        } catch let error as FileSystemError where error.code == .notFound {
            throw BlobStoreError.notFound(key)
        }
    }

    /// Local objects are opened in place: no copy for the worker on this machine.
    public func localFile(key: String, scratch: String) async throws -> String {
        let path = try path(for: key)
        guard FileManager.default.fileExists(atPath: path) else { throw BlobStoreError.notFound(key) }
        return path
    }

    public func deleteAll(prefix: String) async throws {
        let trimmed = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let path = try path(for: trimmed)
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch let error as CocoaError where error.code == .fileNoSuchFile || error.code == .fileReadNoSuchFile {
            // Nothing there: already deleted.
        }
    }

    public func list(prefix: String) async throws -> [String] {
        let trimmed = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        let directory = try path(for: trimmed)
        guard let walker = FileManager.default.enumerator(atPath: directory) else { return [] }
        var keys: [String] = []
        while let relative = walker.nextObject() as? String {
            if walker.fileAttributes?[.type] as? FileAttributeType == .typeRegular { keys.append(trimmed + "/" + relative) }
        }
        return keys
    }

    public func delete(key: String) async throws {
        let path = try path(for: key)
        if unlink(path) != 0 && errno != ENOENT { throw BlobStoreError.notFound(key) }
    }

    /// A hard link: the same bytes under a second name, no copy; deleting one name leaves the other.
    public func copy(from source: String, to destination: String) async throws {
        let from = try path(for: source), to = try path(for: destination)
        guard FileManager.default.fileExists(atPath: from) else { throw BlobStoreError.notFound(source) }
        try FileManager.default.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                attributes: Self.privateDirectory)
        unlink(to)
        if link(from, to) != 0 {
            let staged = stagingDirectory + "/copy-" + UUID().uuidString
            try FileManager.default.copyItem(atPath: from, toPath: staged)
            try await put(key: destination, file: staged)
        }
    }
}
