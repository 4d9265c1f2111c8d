import Foundation
import HTTPTypes
import Hummingbird
import JobStore
import Metrics
import PipelineEngine
import Storage

/// `GET /img/{key id}.{mac}/[exp:…/]{operations}/{source}`: an image rendered
/// on request from a signed URL, for apps that build image URLs in the client
/// and let a CDN cache them (as with imgproxy or thumbor). The signature is
/// the only credential (see `ImageURLSigner`); the answer is cached by
/// `ImageResultCache` and carries an `ETag` and a year-long, immutable
/// `Cache-Control` (the URL's expiry, when it has one, shortens it).
struct ImageRoutes {
    let environment: APIEnvironment

    func register(on router: Router<KilnRequestContext>) {
        router.group("img")
            .add(middleware: ReadinessMiddleware(readiness: environment.readiness))
            .get("**") { request, context in try await serve(request, context: context) }
    }

    func serve(_ request: Request, context: KilnRequestContext) async throws -> Response {
        guard let cache = environment.imageCache, let renderer = environment.imageRenderer else {
            throw APIError.notFound("Image URLs are not served here;")
        }
        let parsed: ImageURLSigner.Request
        let tenant: String
        do {
            parsed = try ImageURLSigner.parse(request.uri.path.dropFirst("/img/".count))
            tenant = try environment.keys.imageURLSigner.verify(parsed)
        } catch {
            switch error {
            case let .malformed(message): throw APIError(.notFound, code: "not_found", message: "Not an image URL: \(message)")
            case let .forbidden(message): throw APIError(.forbidden, code: "forbidden", message: "This image URL is not valid: \(message)")
            }
        }
        let media: MediaRecord
        switch parsed.source {
        case let .media(id):
            // Another tenant's media (or none) is refused like a bad signature: the key opens only its own tenant's.
            guard Identifier.isValid(id, prefix: "med"), let record = try await environment.media(id: id, tenant: tenant) else {
                throw APIError(.forbidden, code: "forbidden", message: "The key that signed this URL has no media \(id)")
            }
            media = record
        case .url:
            throw APIError(.forbidden, code: "origin_not_allowed", message: "This deployment renders only its tenants' media, not URLs")
        }
        let operations: ImageOperations
        do {
            operations = try ImageOperations(parsed.operations, accept: request.headers[.accept], input: media.kind, registry: environment.registry)
        } catch {
            throw APIError.invalid(error)
        }
        let key = ImageResultCache.key(tenant: tenant, source: "sha256:" + media.sha256, operations: operations.canonical)
        var headers: HTTPFields = [.eTag: "\"\(key.prefix(32))\"", .cacheControl: Self.cacheControl(expires: parsed.expires)]
        if operations.negotiated { headers[.vary] = "Accept" }
        if let presented = request.headers[.ifNoneMatch], ConditionalGET.matches(presented, headers[.eTag]!) {
            Counter(label: "kiln_image_requests_total", dimensions: [("result", "not_modified")]).increment()
            return Response(status: .notModified, headers: headers)
        }
        let rendering: ImageResultCache.Rendering
        if let hit = try await cache.cached(key) {
            Counter(label: "kiln_image_requests_total", dimensions: [("result", "hit")]).increment()
            headers[.kilnCache] = "hit"
            rendering = hit
        } else {
            let blobs = environment.blobs, list = operations.list
            let rendered: Bool
            (rendering, rendered) = try await cache.render(key, tenant: tenant) { directory in
                let source: String
                do {
                    source = try await blobs.localFile(key: media.storageKey, scratch: directory)
                } catch BlobStoreError.notFound {
                    return .failed(code: "input_missing", message: "the source media was deleted")
                } catch {
                    return .unavailable("reading the source: \(error)")
                }
                return await renderer.render(source: source, operations: list, directory: directory)
            }
            // A request that waited for another's render was served from the cache, in effect.
            Counter(label: "kiln_image_requests_total", dimensions: [("result", rendered ? "miss" : "hit")]).increment()
            headers[.kilnCache] = rendered ? "miss" : "hit"
        }
        Counter(label: "kiln_image_served_bytes_total").increment(by: rendering.body.readableBytes)
        headers[.contentType] = rendering.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: rendering.body))
    }

    /// A year, or until the URL expires when that is sooner: a CDN never serves it past its expiry.
    static func cacheControl(expires: Date?, now: Date = Date()) -> String {
        let year = 31_536_000
        let seconds = expires.map { max(0, min(year, Int($0.timeIntervalSince(now)))) } ?? year
        return "public, max-age=\(seconds), immutable"
    }
}

extension HTTPField.Name {
    /// Whether an image URL was answered from the cache (`hit`) or rendered (`miss`).
    static let kilnCache = HTTPField.Name("X-Kiln-Cache")!
}
