import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// `ETag` and `If-None-Match` for JSON resources (jobs, media): the tag is a
/// digest of the bytes the client would get, so it is right whatever changed
/// (status, progress, a webhook attempt, an hourly playback token), and a
/// client polling an unchanged job gets 304 with no body.
enum ConditionalGET {
    static func respond(_ value: some Encodable, request: Request, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        guard let data = try? JSONResponse.encoder.encode(value) else { return JSONResponse.make(value, status: status, headers: headers) }
        let tag = "\"" + SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
        var fields = headers
        fields[.eTag] = tag
        fields[.cacheControl] = "no-cache"
        if status == .ok, let presented = request.headers[.ifNoneMatch], matches(presented, tag) {
            return Response(status: .notModified, headers: fields)
        }
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// RFC 9110 §13.1.2: `*`, or any listed tag, compared weakly (a `W/` prefix ignored).
    static func matches(_ header: String, _ tag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let trimmed = candidate.trimmingCharacters(in: .whitespaces)
            return trimmed == "*" || (trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed) == tag
        }
    }
}
