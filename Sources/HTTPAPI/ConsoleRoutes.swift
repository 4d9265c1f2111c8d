import Console
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Storage

/// `/` and `/console/…`: the web console, unauthenticated (the page asks for
/// the key and sends it with its own API calls). A strict Content Security
/// Policy: only this origin's scripts, styles, images and media.
struct ConsoleRoutes {
    static let securityPolicy = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
        + "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

    struct Served: Sendable {
        let body: ByteBuffer
        let contentType: String
        let etag: String
    }

    static let files: [String: Served] = ConsoleFiles.all.mapValues { file in
        Served(body: ByteBuffer(data: file.bytes), contentType: file.contentType,
               etag: "\"" + Hex.encode(SHA256.hash(data: file.bytes).prefix(12)) + "\"")
    }

    func register(on router: Router<KilnRequestContext>) {
        router.get("/") { request, _ in try Self.serve("index.html", request) }
        router.get("console/**") { request, context in
            try Self.serve(context.parameters.getCatchAll().joined(separator: "/"), request)
        }
    }

    static func serve(_ path: String, _ request: Request) throws -> Response {
        guard let file = files[path] else { throw APIError.notFound("File") }
        var headers: HTTPFields = [
            .contentType: file.contentType, .eTag: file.etag,
            // Revalidated each load: a deploy shows at once, and an unchanged file costs a 304.
            .cacheControl: "no-cache",
            .init("Content-Security-Policy")!: securityPolicy,
            .init("X-Content-Type-Options")!: "nosniff",
            .init("Referrer-Policy")!: "no-referrer",
        ]
        if request.headers[.ifNoneMatch] == file.etag {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }
}
