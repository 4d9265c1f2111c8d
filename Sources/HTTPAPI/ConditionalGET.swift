import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// `ETag` and `If-None-Match` for JSON resources (jobs, media): the tag is a
/// digest of the bytes the client would get, so it is right whatever changed
/// (status, progress, a webhook attempt, an hourly playback token), and a
/// client polling an unchanged job gets 304 with no body.
enum ConditionalGET {
    /// A resource's body and its tag.
    struct Encoded: Sendable {
        let body: ByteBuffer
        let tag: String
    }

    static func encode(_ value: some Encodable) -> Encoded? {
        guard let data = try? JSONResponse.encoder.encode(value) else { return nil }
        let tag = "\"" + Hex.encode(SHA256.hash(data: data).prefix(12)) + "\""
        return Encoded(body: ByteBuffer(bytes: data), tag: tag)
    }

    static func respond(_ value: some Encodable, request: Request) -> Response {
        guard let encoded = encode(value) else { return JSONResponse.make(value) }
        return respond(encoded, request: request)
    }

    static func respond(_ encoded: Encoded, request: Request) -> Response {
        var fields: HTTPFields = [.eTag: encoded.tag, .cacheControl: "no-cache"]
        if let presented = request.headers[.ifNoneMatch], matches(presented, encoded.tag) {
            return Response(status: .notModified, headers: fields)
        }
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: encoded.body))
    }

    /// RFC 9110 §13.1.2: `*`, or any listed tag, compared weakly (a `W/` prefix ignored).
    static func matches(_ header: String, _ tag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let trimmed = candidate.trimmingCharacters(in: .whitespaces)
            return trimmed == "*" || (trimmed.hasPrefix("W/") ? String(trimmed.dropFirst(2)) : trimmed) == tag
        }
    }
}
