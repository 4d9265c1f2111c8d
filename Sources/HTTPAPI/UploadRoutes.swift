import Foundation
import Hummingbird
import JobStore
import Logging
import Metrics
import PipelineEngine

/// `POST /v1/uploads`: the body is the file, or a multipart form with a `file`
/// part. Streamed to staging, sniffed, inspected from headers, then published.
struct UploadRoutes {
    let environment: APIEnvironment
    /// Bytes of a multipart body beyond its file: boundaries, part headers, small fields.
    static let multipartOverhead = 64 * 1024

    func register(on group: RouterGroup<KilnRequestContext>) {
        group.post("uploads") { request, context in try await upload(request, context: context) }
    }

    /// The longest `expiresIn`: ten years.
    static let longestLife: Double = 10 * 365 * 86_400

    /// `?expiresIn=SECONDS`: when the upload and everything made from it go (a story's 86400); nil keeps it.
    static func expiresIn(_ request: Request) throws -> Double? {
        guard let raw = request.uri.queryParameters["expiresIn"] else { return nil }
        guard let seconds = Double(String(raw)), seconds >= 1, seconds <= longestLife, seconds.isFinite else {
            throw APIError(.badRequest, code: "invalid_query", message: "expiresIn must be a number of seconds from 1 to \(Int(longestLife))")
        }
        return seconds
    }

    func upload(_ request: Request, context: KilnRequestContext) async throws -> Response {
        let tenant = try context.requireTenant()
        let lifetime = try Self.expiresIn(request)
        if let length = request.headers[.contentLength].flatMap(Int.init), length > environment.uploadLimits.largest {
            throw UploadSpooler.tooLarge("upload", environment.uploadLimits.largest)
        }
        let spooler = UploadSpooler(stagingDirectory: environment.blobs.stagingDirectory, limits: environment.uploadLimits)
        let spooled: UploadSpooler.Spooled
        if let boundary = MultipartFilePart<RequestBody>.boundary(of: request.headers[.contentType]) {
            // The file part is held to its kind's limit by the spooler; the whole body, framing and
            // other fields included, to the largest limit plus room for the framing.
            let body = BodyLimit(base: request.body, limit: environment.uploadLimits.largest + Self.multipartOverhead)
            spooled = try await spooler.spool(MultipartFilePart(base: body, boundary: boundary))
        } else if request.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true {
            throw APIError(.badRequest, code: "malformed_multipart", message: "multipart/form-data needs a boundary of 1 to 70 characters")
        } else {
            spooled = try await spooler.spool(request.body)
        }
        let record = try await Self.publish(spooled, tenant: tenant, environment: environment, logger: context.logger,
                                            expiresAt: lifetime.map { Date().addingTimeInterval($0) })
        var detail: [String: JSONValue] = ["kind": .string(record.kind.rawValue), "size": .number(Double(record.size)), "via": "post"]
        if let lifetime { detail["expiresIn"] = .number(lifetime) }
        await Audit.record(environment, context, "media.upload", record.id, detail: .object(detail))
        return JSONResponse.make(MediaResource(record: record), status: .created, headers: [.location: "/v1/media/\(record.id)"])
    }

    /// 413 `storage_quota_exceeded` when `bytes` more would take the tenant past its stored-bytes limit.
    static func checkStorage(adding bytes: Int, tenant: String, environment: APIEnvironment) async throws {
        guard let limit = environment.tenantLimits.limits(for: tenant).maxStorageBytes else { return }
        let used = try await environment.store.storedUploadBytes(tenant: tenant)
        if used + bytes > limit {
            throw APIError(.contentTooLarge, code: "storage_quota_exceeded",
                           message: "This tenant stores \(used) bytes of uploads; \(bytes) more would pass its limit of \(limit)")
        }
    }

    /// Inspects a spooled upload, stores it and records it as a media record of
    /// `tenant` (the way both plain and tus uploads end). Removes the spooled file.
    static func publish(_ spooled: UploadSpooler.Spooled, tenant: String, environment: APIEnvironment, logger: Logger,
                        expiresAt: Date? = nil) async throws -> MediaRecord {
        let id = Identifier.make(prefix: "med")
        let key = "media/\(tenant)/\(id)"
        do {
            try await checkStorage(adding: spooled.size, tenant: tenant, environment: environment)
            let facts = await environment.inspector.inspect(path: spooled.path, kind: spooled.sniffed.kind)
            let record = MediaRecord(id: id, tenant: tenant, kind: spooled.sniffed.kind, contentType: spooled.sniffed.contentType,
                                     size: spooled.size, sha256: spooled.sha256, width: facts.width, height: facts.height,
                                     duration: facts.duration, storageKey: key, expiresAt: expiresAt)
            try await environment.blobs.put(key: key, file: spooled.path)
            try await environment.store.insertMedia(record)
            Counter(label: "kiln_upload_bytes_total", dimensions: [("kind", spooled.sniffed.kind.rawValue)]).increment(by: spooled.size)
            logger.info("upload stored", metadata: ["media.id": .string(id), "size": "\(spooled.size)"])
            return record
        } catch {
            try? FileManager.default.removeItem(atPath: spooled.path)
            try? await environment.blobs.deleteAll(prefix: key)
            throw error
        }
    }
}
