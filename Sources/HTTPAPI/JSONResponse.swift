import Foundation
import Hummingbird
import PipelineEngine

enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            // RFC 3339 in UTC with milliseconds: 2026-11-25T15:11:14.338Z
            try container.encode(rfc3339.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// RFC 3339 in UTC with milliseconds, as `encoder` writes dates; null for none.
    static func timestamp(_ date: Date?) -> JSONValue {
        date.map { .string(rfc3339.format($0)) } ?? .null
    }

    private static let rfc3339 = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        let data = (value as? any JSONValueConvertible).map { $0.json.encoded() }
            ?? (try? encoder.encode(value)) ?? Data(#"{"error":{"code":"internal","message":"encoding failed"}}"#.utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
