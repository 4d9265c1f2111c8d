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
            // What a GET would answer, headers only: a CDN or `curl -I` checking a URL. A cold URL renders, as a GET would.
            .head("**") { request, context in
                var response = try await serve(request, context: context)
                // The length a GET's body would have; the body itself is never written.
                response.body = ResponseBody(contentLength: response.body.contentLength ?? 0) { writer in try await writer.finish(nil) }
                return response
            }
    }

    func serve(_ request: Request, context: KilnRequestContext) async throws -> Response {
        guard let cache = environment.imageCache, let renderer = environment.imageRenderer else {
            throw APIError.notFound("Image URLs are not served here;")
        }
        let path = request.uri.path.dropFirst("/img/".count)
        let format = ImageOperations.negotiate(request.headers[.accept])
        let (signer, keysGeneration) = environment.keys.imageURLSignerAndGeneration
        let memoKey = ImageURLMemo.key(path: path, format: format)
        let url: ImageURLMemo.Entry
        let source: ImageSource
        if let known = environment.imageURLMemo.get(memoKey, keysGeneration: keysGeneration) {
            if let expires = known.expires, expires <= Date() {
                throw APIError(.forbidden, code: "forbidden", message: "This image URL is not valid: the URL expired")
            }
            url = known
            // The media is looked up each time: a deleted one stops being served at once.
            source = try await Self.source(url.source, tenant: url.tenant, environment: environment)
        } else {
            (url, source) = try await check(path, format: format, signer: signer, keysGeneration: keysGeneration)
            environment.imageURLMemo.put(memoKey, url)
        }
        let tenant = url.tenant, operations = url.operations
        let key = ImageResultCache.key(tenant: tenant, source: source.identity, operations: operations.canonical)
        var headers: HTTPFields = [.eTag: "\"\(key.prefix(32))\"", .cacheControl: Self.cacheControl(expires: url.expires)]
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
            let blobs = environment.blobs, origins = environment.imageOrigins, list = operations.list
            let rendered: Bool
            (rendering, rendered) = try await cache.render(key, tenant: tenant, source: source.identity) { directory in
                let path: String
                switch source {
                case let .media(record):
                    do {
                        path = try await blobs.localFile(key: record.storageKey, scratch: directory)
                    } catch BlobStoreError.notFound {
                        return .failed(code: "input_missing", message: "the source media was deleted")
                    } catch {
                        return .unavailable("reading the source: \(error)")
                    }
                case let .url(url):
                    path = directory + "/source"
                    try await origins.fetch(url, to: path)
                }
                return await renderer.render(source: path, operations: list, directory: directory)
            }
            // A request that waited for another's render was served from the cache, in effect.
            Counter(label: "kiln_image_requests_total", dimensions: [("result", rendered ? "miss" : "hit")]).increment()
            headers[.kilnCache] = rendered ? "miss" : "hit"
        }
        Counter(label: "kiln_image_served_bytes_total").increment(by: rendering.body.readableBytes)
        headers[.contentType] = rendering.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: rendering.body))
    }

    /// Parses, verifies and validates an image path: what a URL asks for and its source as it stands, or the 4xx it gets.
    private func check(_ path: Substring, format: String?, signer: ImageURLSigner, keysGeneration: Int) async throws
        -> (ImageURLMemo.Entry, ImageSource) {
        let parsed: ImageURLSigner.Request
        let tenant: String
        do {
            parsed = try ImageURLSigner.parse(path)
            tenant = try signer.verify(parsed)
        } catch {
            switch error {
            case let .malformed(message): throw APIError(.notFound, code: "not_found", message: "Not an image URL: \(message)")
            case let .forbidden(message): throw APIError(.forbidden, code: "forbidden", message: "This image URL is not valid: \(message)")
            }
        }
        let source = try await Self.source(parsed.source, tenant: tenant, environment: environment)
        do {
            let operations = try ImageOperations(parsed.operations, format: format, input: source.kind, registry: environment.registry)
            return (ImageURLMemo.Entry(tenant: tenant, expires: parsed.expires, source: parsed.source, operations: operations,
                                       keysGeneration: keysGeneration), source)
        } catch {
            throw APIError.invalid(error)
        }
    }

    /// The source as it stands now: the tenant's media record (403 when it has none by that id), or an allowed URL.
    static func source(_ source: ImageURLSigner.Source, tenant: String, environment: APIEnvironment) async throws -> ImageSource {
        switch source {
        case let .media(id):
            // Another tenant's media (or none) is refused like a bad signature: the key opens only its own tenant's.
            guard Identifier.isValid(id, prefix: "med"), let record = try await environment.media(id: id, tenant: tenant) else {
                throw APIError(.forbidden, code: "forbidden", message: "The key that signed this URL has no media \(id)")
            }
            return .media(record)
        case let .url(url):
            guard environment.imageOrigins.allows(url) else {
                throw APIError(.forbidden, code: "origin_not_allowed", message: "\(url) is not under an origin this deployment renders from")
            }
            return .url(url)
        }
    }

    /// A year, or until the URL expires when that is sooner: a CDN never serves it past its expiry.
    static func cacheControl(expires: Date?, now: Date = Date()) -> String {
        let year = 31_536_000
        let seconds = expires.map { max(0, min(year, Int($0.timeIntervalSince(now)))) } ?? year
        return "public, max-age=\(seconds), immutable"
    }
}

/// What an image URL renders from.
enum ImageSource: Sendable {
    case media(MediaRecord)
    case url(String)

    /// What the cache key says the source is: its bytes' digest, or (not fetched before a miss) its URL.
    var identity: String {
        switch self {
        case let .media(record): "sha256:" + record.sha256
        case let .url(url): "url:" + url
        }
    }

    /// A URL's kind is known once fetched; the operations are checked as for an image.
    var kind: MediaKind {
        switch self {
        case let .media(record): record.kind
        case .url: .image
        }
    }
}

extension HTTPField.Name {
    /// Whether an image URL was answered from the cache (`hit`) or rendered (`miss`).
    static let kilnCache = HTTPField.Name("X-Kiln-Cache")!
}
