import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JobStore
import Logging
import NIOCore
import NIOFileSystem

/// Resumable uploads, tus 1.0 (https://tus.io/protocols/resumable-upload) at
/// `/v1/uploads/tus`: core, creation, termination, expiration and checksum
/// (sha256, sha1, md5). Each PATCH's bytes are stored as a chunk object, kept
/// even when the connection drops midway, so a client resumes from what
/// arrived; the last one turns the chunks into a media record like
/// `POST /v1/uploads` makes, whose id comes back in `Kiln-Media-Id`.
struct TusRoutes {
    let environment: APIEnvironment
    let locks = TusUploadLocks()
    /// An unfinished upload is kept this long after its last PATCH.
    static let lifetime: TimeInterval = 24 * 3600
    static let version = "1.0.0"

    enum Header {
        static let resumable = HTTPField.Name("Tus-Resumable")!
        static let versions = HTTPField.Name("Tus-Version")!
        static let extensions = HTTPField.Name("Tus-Extension")!
        static let maxSize = HTTPField.Name("Tus-Max-Size")!
        static let checksumAlgorithms = HTTPField.Name("Tus-Checksum-Algorithm")!
        static let offset = HTTPField.Name("Upload-Offset")!
        static let length = HTTPField.Name("Upload-Length")!
        static let deferLength = HTTPField.Name("Upload-Defer-Length")!
        static let metadata = HTTPField.Name("Upload-Metadata")!
        static let expires = HTTPField.Name("Upload-Expires")!
        static let checksum = HTTPField.Name("Upload-Checksum")!
        static let mediaID = HTTPField.Name("Kiln-Media-Id")!
    }

    func register(on group: RouterGroup<KilnRequestContext>) {
        group.on("uploads/tus", method: .options) { _, _ in
            Response(status: .noContent, headers: [
                Header.resumable: Self.version, Header.versions: Self.version,
                Header.extensions: "creation,termination,expiration,checksum",
                Header.maxSize: String(environment.uploadLimits.largest),
                Header.checksumAlgorithms: TusChecksum.Algorithm.allCases.map(\.rawValue).joined(separator: ","),
            ])
        }
        group.post("uploads/tus") { request, context in try await create(request, context: context) }
        group.on("uploads/tus/:id", method: .head) { request, context in
            try await locks.withLock(try context.parameters.require("id")) { try await head(request, context: context) }
        }
        group.patch("uploads/tus/:id") { request, context in
            try await locks.withLock(try context.parameters.require("id")) { try await patch(request, context: context) }
        }
        group.delete("uploads/tus/:id") { request, context in
            try await locks.withLock(try context.parameters.require("id")) { try await terminate(request, context: context) }
        }
    }

    // MARK: Calls

    func create(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        try Self.checkVersion(request)
        if request.headers[Header.deferLength] != nil {
            throw Self.error(.badRequest, "length_required", "Upload-Defer-Length is not supported; send Upload-Length")
        }
        guard let raw = request.headers[Header.length], let length = Int(raw), length >= 0 else {
            throw Self.error(.badRequest, "length_required", "Upload-Length must be a non-negative integer")
        }
        guard length > 0 else { throw Self.error(.badRequest, "empty_upload", "The upload has no bytes") }
        guard length <= environment.uploadLimits.largest else {
            throw Self.error(.contentTooLarge, "too_large", "Upload-Length exceeds the largest upload accepted (\(environment.uploadLimits.largest) bytes)")
        }
        // An empty value means no metadata (tuspy sends `Upload-Metadata:` so when it has none; tusd accepts it).
        let metadata = request.headers[Header.metadata].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        if let metadata, metadata.utf8.count > 4096 || !TusMetadata.isValid(metadata) {
            throw Self.error(.badRequest, "invalid_metadata", "Upload-Metadata must be comma-separated `key base64value` pairs, at most 4 KiB")
        }
        // Refused before a byte is sent when it could never be kept (checked again as it completes).
        try await UploadRoutes.checkStorage(adding: length, tenant: tenant, environment: environment)
        let upload = try await environment.store.createTusUpload(
            id: Identifier.make(prefix: "tus"), tenant: tenant, length: length, metadata: metadata, expiresAt: Date() + Self.lifetime)
        context.logger.info("tus upload created", metadata: ["upload.id": .string(upload.id), "length": "\(length)"])
        await Audit.record(environment, context, "upload.create", upload.id, detail: ["length": .number(Double(length))])
        return Response(status: .created, headers: [
            // Relative, as tus allows: right behind any proxy, whatever KILN_PUBLIC_URL says.
            Header.resumable: Self.version, .location: "/v1/uploads/tus/" + upload.id,
            Header.expires: Self.httpDate(upload.expiresAt),
        ])
    }

    func head(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let upload = try await find(context)
        var headers = state(of: upload)
        headers[.cacheControl] = "no-store"
        if let metadata = upload.metadata { headers[Header.metadata] = metadata }
        return Response(status: .ok, headers: headers)
    }

    func patch(_ request: Request, context: KilnRequestContext) async throws -> Response {
        try Self.checkVersion(request)
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/offset+octet-stream") == true else {
            throw Self.error(.unsupportedMediaType, "unsupported_media_type", "A PATCH body must be Content-Type: application/offset+octet-stream")
        }
        guard let raw = request.headers[Header.offset], let offset = Int(raw), offset >= 0 else {
            throw Self.error(.badRequest, "offset_required", "Upload-Offset must be a non-negative integer")
        }
        let checksum = try request.headers[Header.checksum].map { header in
            guard let parsed = TusChecksum(header: header) else {
                throw Self.error(.badRequest, "unsupported_checksum", "Upload-Checksum must be `algorithm base64digest` with one of \(TusChecksum.Algorithm.allCases.map(\.rawValue))")
            }
            return parsed
        }
        var upload = try await find(context)
        guard offset == upload.offset else {
            throw Self.error(.conflict, "offset_mismatch", "Upload-Offset is \(offset) but the upload is at \(upload.offset)", state: upload)
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), Self.tooSmall(declared, for: upload) {
            throw Self.chunkTooSmall(upload)
        }
        if upload.offset < upload.length {
            upload = try await receive(request.body, into: upload, checksum: checksum, logger: context.logger)
        }
        if upload.offset == upload.length && upload.mediaID == nil {
            upload.mediaID = try await finish(upload, context: context)
        }
        return Response(status: .noContent, headers: state(of: upload))
    }

    func terminate(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        try Self.checkVersion(request)
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id, prefix: "tus"), let chunks = try await environment.store.deleteTusUpload(id: id, tenant: tenant) else {
            throw APIError.notFound("Upload")
        }
        for key in chunks { try? await environment.blobs.delete(key: key) }
        await Audit.record(environment, context, "upload.terminate", id)
        return Response(status: .noContent, headers: [Header.resumable: Self.version])
    }

    // MARK: Steps

    /// Stores the request's bytes as one chunk and moves the offset past them.
    /// A body cut short keeps what arrived (the client resumes from there)
    /// unless a checksum was sent, which a partial chunk cannot match.
    private func receive(_ body: RequestBody, into upload: TusUpload, checksum: TusChecksum?, logger: Logger) async throws -> TusUpload {
        let path = environment.blobs.stagingDirectory + "/tus-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: path) }
        let remaining = upload.length - upload.offset
        var digest = checksum.map { TusChecksum.Hasher($0.algorithm) }
        var received = 0
        var interrupted: (any Error)?
        try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(path), options: .newFile(replaceExisting: false)) { handle in
            do {
                for try await chunk in body {
                    received += chunk.readableBytes
                    if received > remaining {
                        throw Self.error(.contentTooLarge, "too_large", "The body runs past Upload-Length (\(remaining) bytes remained)", state: upload)
                    }
                    digest?.update(chunk)
                    try await handle.write(contentsOf: chunk.readableBytesView, toAbsoluteOffset: Int64(received - chunk.readableBytes))
                }
            } catch let error as APIError {
                throw error
            } catch {
                interrupted = error
            }
        }
        if let checksum, let digest {
            guard interrupted == nil, digest.finalize() == checksum.digest else {
                throw Self.error(HTTPResponse.Status(code: 460, reasonPhrase: "Checksum Mismatch"), "checksum_mismatch",
                                 "The chunk does not match its Upload-Checksum; it was not kept", state: upload)
            }
        }
        guard received > 0 else {
            if let interrupted { throw interrupted }
            return upload
        }
        // A chunk too small to keep: a cut-off one is dropped (the client sends it again), a whole one refused.
        if Self.tooSmall(received, for: upload) {
            if let interrupted { throw interrupted }
            throw Self.chunkTooSmall(upload)
        }
        let key = "tus/\(upload.tenant)/\(upload.id)/\(String(format: "%016d", upload.offset))-\(UUID().uuidString)"
        try await environment.blobs.put(key: key, file: path)
        guard let moved = try await environment.store.appendTusChunk(
            id: upload.id, tenant: upload.tenant, from: upload.offset, to: upload.offset + received, key: key, expiresAt: Date() + Self.lifetime) else {
            try? await environment.blobs.delete(key: key)
            throw Self.error(.conflict, "offset_mismatch", "Another request moved this upload first")
        }
        if let interrupted { logger.info("tus chunk cut short; kept what arrived", metadata: ["upload.id": .string(upload.id), "received": "\(received)", "error": "\(interrupted)"]) }
        return moved
    }

    /// Joins the chunks into one file, checks and records it as media, and
    /// deletes the chunks. Content Kiln refuses (a type it does not take, too
    /// large for its kind) ends the upload: its bytes could never become media.
    private func finish(_ upload: TusUpload, context: KilnRequestContext) async throws -> String {
        let logger = context.logger
        let chunks = try await environment.store.tusChunks(id: upload.id)
        let joined = environment.blobs.stagingDirectory + "/tus-joined-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: joined) }
        try await FileSystem.shared.withFileHandle(forWritingAt: FilePath(joined), options: .newFile(replaceExisting: false)) { handle in
            var offset: Int64 = 0
            for key in chunks {
                try await environment.blobs.read(key: key, range: nil) { buffer in
                    try await handle.write(contentsOf: buffer.readableBytesView, toAbsoluteOffset: offset)
                    offset += Int64(buffer.readableBytes)
                }
            }
        }
        let spooler = UploadSpooler(stagingDirectory: environment.blobs.stagingDirectory, limits: environment.uploadLimits)
        let record: MediaRecord
        do {
            let spooled = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(joined)) { handle in
                try await spooler.spool(handle.readChunks())
            }
            record = try await UploadRoutes.publish(spooled, tenant: upload.tenant, environment: environment, logger: logger)
        } catch let error as APIError {
            if let chunks = try? await environment.store.deleteTusUpload(id: upload.id, tenant: upload.tenant) {
                for key in chunks { try? await environment.blobs.delete(key: key) }
            }
            throw error
        }
        _ = try await environment.store.completeTusUpload(id: upload.id, mediaID: record.id)
        for key in chunks { try? await environment.blobs.delete(key: key) }
        logger.info("tus upload finished", metadata: ["upload.id": .string(upload.id), "media.id": .string(record.id)])
        await Audit.record(environment, context, "media.upload", record.id,
                           detail: ["kind": .string(record.kind.rawValue), "size": .number(Double(record.size)), "via": .string(upload.id)])
        return record.id
    }

    // MARK: Helpers

    /// The smallest chunk kept, but for the one that completes an upload: each
    /// chunk is a stored object and a row, and a client sending a byte at a time
    /// would make millions of them.
    static let minimumChunk = 4096

    static func tooSmall(_ bytes: Int, for upload: TusUpload) -> Bool {
        bytes < minimumChunk && upload.offset + bytes < upload.length
    }

    static func chunkTooSmall(_ upload: TusUpload) -> APIError {
        error(.badRequest, "chunk_too_small",
              "A PATCH must carry at least \(minimumChunk) bytes unless it completes the upload", state: upload)
    }

    private func find(_ context: KilnRequestContext) async throws -> TusUpload {
        let tenant = try context.requireTenant()
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id, prefix: "tus"), let upload = try await environment.store.tusUpload(id: id, tenant: tenant) else {
            throw Self.error(.notFound, "not_found", "Upload not found")
        }
        return upload
    }

    private func state(of upload: TusUpload) -> HTTPFields {
        var headers: HTTPFields = [
            Header.resumable: Self.version, Header.offset: String(upload.offset), Header.length: String(upload.length),
            Header.expires: Self.httpDate(upload.expiresAt),
        ]
        if let media = upload.mediaID { headers[Header.mediaID] = media }
        return headers
    }

    static func checkVersion(_ request: Request) throws {
        guard request.headers[Header.resumable] == version else {
            var error = APIError(.preconditionFailed, code: "unsupported_tus_version", message: "Send Tus-Resumable: \(version)")
            error.headers[Header.versions] = version
            error.headers[Header.resumable] = version
            throw error
        }
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, _ message: String, state upload: TusUpload? = nil) -> APIError {
        var error = APIError(status, code: code, message: message)
        error.headers[Header.resumable] = version
        if let upload { error.headers[Header.offset] = String(upload.offset) }
        return error
    }

    /// RFC 9110's IMF-fixdate, as Upload-Expires wants it.
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}

/// `Upload-Metadata`: `key base64value` pairs separated by commas (the value may be absent).
enum TusMetadata {
    static func isValid(_ header: String) -> Bool {
        header.split(separator: ",", omittingEmptySubsequences: false).allSatisfy { pair in
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: false)
            guard let key = parts.first, !key.isEmpty, parts.count <= 2,
                  key.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "," }) else { return false }
            return parts.count == 1 || Data(base64Encoded: String(parts[1])) != nil
        }
    }
}

/// `Upload-Checksum: <algorithm> <base64 digest>` of one PATCH body.
struct TusChecksum {
    enum Algorithm: String, CaseIterable { case sha256, sha1, md5 }

    let algorithm: Algorithm
    let digest: Data

    init?(header: String) {
        let parts = header.split(separator: " ")
        guard parts.count == 2, let algorithm = Algorithm(rawValue: parts[0].lowercased()),
              let digest = Data(base64Encoded: String(parts[1])) else { return nil }
        self.algorithm = algorithm
        self.digest = digest
    }

    struct Hasher {
        private var sha256 = SHA256()
        private var sha1 = Insecure.SHA1()
        private var md5 = Insecure.MD5()
        let algorithm: Algorithm

        init(_ algorithm: Algorithm) { self.algorithm = algorithm }

        mutating func update(_ buffer: ByteBuffer) {
            buffer.withUnsafeReadableBytes { bytes in
                switch algorithm {
                case .sha256: sha256.update(bufferPointer: bytes)
                case .sha1: sha1.update(bufferPointer: bytes)
                case .md5: md5.update(bufferPointer: bytes)
                }
            }
        }

        func finalize() -> Data {
            switch algorithm {
            case .sha256: Data(sha256.finalize())
            case .sha1: Data(sha1.finalize())
            case .md5: Data(md5.finalize())
            }
        }
    }
}
