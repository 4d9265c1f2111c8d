import Foundation
import HTTPTypes
import Hummingbird
import JobStore
import Storage

/// Serves a job's published output files to browsers and players, for the
/// bearer-key route and the signed `/play/` route alike: the stored content
/// type, Range, CORS (browser players fetch segments with XHR and `Range`),
/// and caching that tells players which files can change.
enum OutputDelivery {
    enum Audience: String {
        /// Behind a bearer key: caches between Kiln and the client must not keep it.
        case `private`
        /// A signed URL: any cache may keep it until it changes (never, for a segment).
        case `public`
    }

    static let cors: HTTPFields = [
        .accessControlAllowOrigin: "*",
        .accessControlExposeHeaders: "Content-Length, Content-Range, Accept-Ranges, Content-Type",
    ]

    /// A year, or the seconds left until `until`, whichever is less.
    static func maxAge(until: Date?, now: Date = Date()) -> Int {
        let year = 31_536_000
        guard let until else { return year }
        return max(0, min(year, Int(until.timeIntervalSince(now).rounded(.down))))
    }

    /// The answer to a CORS preflight: `Range` (and the bearer key) may be sent.
    static func preflight() -> Response {
        var headers = cors
        headers[.accessControlAllowMethods] = "GET, HEAD, OPTIONS"
        headers[.accessControlAllowHeaders] = "Authorization, Range"
        headers[.accessControlMaxAge] = "86400"
        return Response(status: .noContent, headers: headers)
    }

    /// Only published files exist for clients: those listed in an output,
    /// which is every file of a succeeded output and what a running `hls`
    /// output has published so far.
    /// `until`: when the URL stops working (a signed link's expiry). No cache may
    /// keep the answer past it: a shared cache would go on serving a file after
    /// its link expired or its job was deleted.
    static func serve(_ job: Job, path: String, request: Request, blobs: any BlobStore, audience: Audience,
                      until: Date? = nil) async throws -> Response {
        guard let (output, file) = job.outputs.values.lazy.compactMap({ output in output.files.first { $0.path == path }.map { (output, $0) } }).first
        else { throw APIError.notFound("File") }
        var headers = cors
        // A running output's playlists grow (EVENT); its segments, and every file of a finished output, never change.
        let changing = output.status != .succeeded && file.publication?.isLive == true
        headers[.cacheControl] = changing ? "no-cache" : "\(audience.rawValue), max-age=\(maxAge(until: until)), immutable"
        // A succeeded job's files exist while its record does (retention deletes the row first,
        // then the files), so the recorded size is used as it is; a canceled or failed job's
        // record may name files already collected, and the store is asked (404 when gone).
        return try await BlobResponse.make(blobs: blobs, key: file.storageKey(jobID: job.id), size: job.status == .succeeded ? file.size : nil, contentType: file.contentType, request: request,
                                           extraHeaders: headers)
    }
}
