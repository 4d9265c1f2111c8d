import Hummingbird
import Metrics
import Storage

/// Serves a stored object with `Range` support: one byte range per request
/// (206 + Content-Range), 416 when unsatisfiable, the whole object otherwise.
enum BlobResponse {
    /// `size`: the object's size as its record gives it, when the record guarantees the object
    /// exists (objects are never replaced, so the size is exact). It saves asking the store
    /// first: a round trip to S3 for every segment a player fetches. Without it, the store is
    /// asked, and a missing object is a 404.
    static func make(blobs: any BlobStore, key: String, size known: Int? = nil, contentType: String, request: Request,
                     extraHeaders: HTTPFields = [:]) async throws -> Response {
        let found: Int?
        if let known { found = known } else { found = try await blobs.size(key: key) }
        guard let size = found else { throw APIError.notFound("File") }
        var headers = extraHeaders
        headers[.contentType] = contentType
        headers[.acceptRanges] = "bytes"
        var range: ClosedRange<Int>?
        var status = HTTPResponse.Status.ok
        if let header = request.headers[.range] {
            switch ByteRange.parse(header, size: size) {
            case let .satisfiable(r):
                range = r
                status = .partialContent
                headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
            case .unsatisfiable:
                var error = APIError(.rangeNotSatisfiable, code: "range_not_satisfiable", message: "The range is outside the file's \(size) bytes")
                error.headers[.contentRange] = "bytes */\(size)"
                throw error
            case .ignored:
                break
            }
        }
        let length = range.map { $0.count } ?? size
        if request.method == .head {
            headers[.contentLength] = String(length)
            return Response(status: status, headers: headers, body: .init())
        }
        let chosen = range
        Counter(label: "kiln_served_bytes_total").increment(by: length)
        let body = ResponseBody(contentLength: length) { writer in
            if length > 0 {
                try await blobs.read(key: key, range: chosen) { chunk in try await writer.write(chunk) }
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }
}

/// A parsed `Range: bytes=…` header (RFC 9110 §14.1.2).
enum ByteRange: Equatable {
    case satisfiable(ClosedRange<Int>)
    case unsatisfiable
    /// Not a single byte range we serve partially: answer with the whole file.
    case ignored

    static func parse(_ header: String, size: Int) -> ByteRange {
        let value = header.trimmingCharacters(in: .whitespaces)
        guard value.lowercased().hasPrefix("bytes=") else { return .ignored }
        let spec = value.dropFirst(6)
        guard !spec.contains(",") else { return .ignored }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2 else { return .ignored }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix > 0 else { return parts[1].isEmpty ? .ignored : .unsatisfiable }
            guard size > 0 else { return .unsatisfiable }
            return .satisfiable(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(parts[0]), start >= 0 else { return .ignored }
        guard start < size else { return .unsatisfiable }
        if parts[1].isEmpty { return .satisfiable(start...(size - 1)) }
        guard let end = Int(parts[1]), end >= start else { return .ignored }
        return .satisfiable(start...min(end, size - 1))
    }
}

import Foundation
