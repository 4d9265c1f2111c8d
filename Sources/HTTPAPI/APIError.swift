import Hummingbird
import PipelineEngine

/// An error with the status and body a client sees:
/// `{"error": {"code", "message", "pointer"?}}`.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var pointer: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String, pointer: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.pointer = pointer
    }

    static let unauthorized = APIError(.unauthorized, code: "unauthorized", message: "Missing or invalid API key; send Authorization: Bearer <key>")

    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) not found")
    }

    static func malformedJSON(_ detail: String) -> APIError {
        APIError(.badRequest, code: "malformed_json", message: "The body is not valid JSON: \(detail)")
    }

    static func invalid(_ error: ValidationError) -> APIError {
        APIError(.unprocessableContent, code: error.code, message: error.message, pointer: error.pointer.description)
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var pointer: String?
        }
        var error: Detail
    }

    func response() -> Response {
        var response = JSONResponse.make(Body(error: .init(code: code, message: message, pointer: pointer)), status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}
