import AsyncHTTPClient
import Egress
import Foundation
import HTTPAPI
import HTTPTypes
import JobRunner
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// `GET /img/…`: images rendered on request from signed URLs, over real HTTP,
/// real libvips and the real result cache (blob store and PostgreSQL).
@Suite(.ownThreads) struct ImageURLTests {
    static func url(_ operations: String, _ media: String, key: String = "key-a", expires: Date? = nil) -> String {
        ImageURLSigner.sign(ImageURLSigner.rest(operations: operations, source: .media(media), expires: expires), apiKey: key)
    }

    static func url(_ operations: String, origin url: String) -> String {
        ImageURLSigner.sign(ImageURLSigner.rest(operations: operations, source: .url(url)), apiKey: "key-a")
    }

    /// Python's http.server on a loopback port, serving `directory`; each request it answers is a line of its log.
    struct Origin {
        let process: Process
        let log: String
        let base: String

        init(serving directory: String) throws {
            let port = try WebhookTests.freePort()
            log = NSTemporaryDirectory() + "kiln-origin-\(UUID().uuidString).log"
            FileManager.default.createFile(atPath: log, contents: nil)
            process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, "\(port)"]
            process.standardError = FileHandle(forWritingAtPath: log)
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            base = "http://127.0.0.1:\(port)/"
        }

        var requests: Int { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").components(separatedBy: "\"GET ").count - 1 }

        func waitForListening() async throws {
            let deadline = ContinuousClock.now + .seconds(20)
            while (try? runTool("python3", ["-c", "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)",
                                            String(base.split(separator: ":").last!.dropLast())])) == nil {
                guard ContinuousClock.now < deadline else { throw HarnessError("the origin never listened") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func stop() { kill(process.processIdentifier, SIGKILL) }
    }

    static func get(_ h: Harness, _ path: String) async throws -> (status: Int, code: String?, body: ByteBuffer, cache: String?) {
        let response = try await h.client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
        let code = (try? JSONValue.decode(Data(buffer: response.body)))?["error"]?["code"]?.stringValue
        return (Int(response.status.code), code, response.body, response.headers[.kilnCache])
    }

    /// Sources from URLs: only under a listed origin, and never from an internal address unless the
    /// deployment allows its network (as for webhooks); a refused fetch sends nothing at all.
    @Test func urlSourcesComeOnlyFromAllowedOriginsAndNeverFromInternalAddresses() async throws {
        let served = NSTemporaryDirectory() + "kiln-origin-files-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: served, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Fixture.path("astronaut.jpg"), toPath: served + "/a.jpg")
        let origin = try Origin(serving: served)
        defer { origin.stop() }
        try await origin.waitForListening()
        var configuration = try TestEnvironment.configuration()
        configuration.imageOrigins = [origin.base]
        // The origin is listed, but it is a loopback address, which the egress rules refuse.
        try await Harness.run(configuration: configuration) { h in
            let refused = try await Self.get(h, Self.url("thumbnail:w=64", origin: origin.base + "a.jpg"))
            #expect(refused.status == 403 && refused.code == "origin_refused", "\(refused)")
            for outside in ["http://127.0.0.2:1/a.jpg", origin.base + "../a.jpg", origin.base + "%2e%2e/a.jpg", "file:///etc/passwd",
                            origin.base.replacingOccurrences(of: "http:", with: "https:") + "a.jpg"] {
                let answer = try await Self.get(h, Self.url("thumbnail:w=64", origin: outside))
                #expect(answer.status == 403 && answer.code == "origin_not_allowed", "\(outside): \(answer)")
            }
        }
        #expect(origin.requests == 0, "the canary was reached")

        // A deployment whose origin is on its own network allows that network, as for webhooks.
        configuration.webhooks.egress = EgressPolicy(allowedNetworks: [IPNetwork("127.0.0.0/8")!])
        try await Harness.run(configuration: configuration) { h in
            let path = Self.url("thumbnail:w=64/encode:f=png", origin: origin.base + "a.jpg")
            let first = try await Self.get(h, path)
            #expect(first.status == 200 && first.cache == "miss", "\(first)")
            #expect(try Harness.decodeImage(first.body).width == 64)
            let second = try await Self.get(h, path)
            #expect(second.status == 200 && second.cache == "hit" && second.body == first.body)
            #expect(origin.requests == 1, "fetched once, then served from the cache")
            let missing = try await Self.get(h, Self.url("thumbnail:w=64", origin: origin.base + "missing.jpg"))
            #expect(missing.status == 404, "\(missing)")
        }
    }

    @Test func aSignedURLRendersOnceThenComesFromTheCache() async throws {
        try await Harness.run { h in
            // A 12 MP phone photo whose EXIF turns it: the thumbnail is upright (portrait) and 300 wide.
            let media = try #require(try await h.upload(try Fixture.corpus("jpeg-12mp-o6.jpg"))["id"]?.stringValue)
            let path = Self.url("thumbnail:w=300/encode:f=webp,q=75", media)
            let first = try await h.client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
            #expect(first.status == .ok, "\(String(buffer: first.body))")
            #expect(first.headers[.contentType] == "image/webp")
            #expect(first.headers[.kilnCache] == "miss")
            #expect(first.headers[.cacheControl] == "public, max-age=31536000, immutable")
            #expect(first.headers[.vary] == nil, "the format was named, so the answer does not vary by Accept")
            let image = try Harness.decodeImage(first.body)
            #expect(image.width == 300 && image.height == 400, "\(image.width)x\(image.height)")
            let tag = try #require(first.headers[.eTag])

            let second = try await h.client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
            #expect(second.status == .ok && second.headers[.kilnCache] == "hit")
            #expect(second.body == first.body && second.headers[.eTag] == tag)
            let revalidated = try await h.client.executeRequest(uri: path, method: .get, headers: [.ifNoneMatch: tag], body: nil)
            #expect(revalidated.status == .notModified && revalidated.body.readableBytes == 0)
            #expect(revalidated.headers[.eTag] == tag)
            // HEAD answers a GET's headers with no body, a refusal too, and the connection stays usable.
            let refusedHead = try await h.client.executeRequest(uri: path + "x", method: .head, headers: [:], body: nil)
            #expect(refusedHead.status == .forbidden && refusedHead.body.readableBytes == 0)
            let head = try await h.client.executeRequest(uri: path, method: .head, headers: [:], body: nil)
            #expect(head.status == .ok && head.body.readableBytes == 0)
            #expect(head.headers[.contentLength] == String(first.body.readableBytes), "\(head.headers)")
            #expect(head.headers[.contentType] == "image/webp" && head.headers[.eTag] == tag)

            // Another spelling of the same rendering (full names, another order) shares the entry.
            let respelled = try await h.client.executeRequest(uri: Self.url("thumbnail:width=300/encode:quality=75,format=webp", media),
                                                              method: .get, headers: [:], body: nil)
            #expect(respelled.headers[.kilnCache] == "hit" && respelled.body == first.body)

            // One row in the index, one object in the store.
            let stored = try await h.kiln.blobs.list(prefix: "image-cache/")
            #expect(stored.count == 1, "\(stored)")
            #expect(try await h.kiln.store.imageCacheBytes(tenant: "tenant-a").tenant == first.body.readableBytes)
            let usage = try h.json(try await h.request(.get, "/v1/usage"))
            #expect(usage["storedBytes"]?["imageCache"]?.intValue == first.body.readableBytes, "\(usage)")

            // Deleting the media forgets its renderings at once, and their bytes go with the next retention pass.
            #expect(try await h.request(.delete, "/v1/media/\(media)").status == .noContent)
            #expect(try await h.kiln.store.imageCacheBytes(tenant: "tenant-a").tenant == 0)
            #expect(try await h.client.executeRequest(uri: path, method: .get, headers: [:], body: nil).status == .forbidden)
            _ = try await Retention(store: h.kiln.store, blobs: h.kiln.blobs, configuration: h.kiln.configuration.worker).pruneOnce()
            #expect(try await h.kiln.blobs.list(prefix: "image-cache/").isEmpty)
        }
    }

    @Test func withoutAFormatTheAnswerFollowsAccept() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload("astronaut.jpg")["id"]?.stringValue)
            let path = Self.url("thumbnail:w=64", media)
            let cases: [(accept: String?, type: String)] = [
                ("image/avif,image/webp,image/apng,image/*,*/*;q=0.8", "image/avif"),
                ("image/webp,*/*", "image/webp"),
                ("image/avif;q=0, image/webp", "image/webp"),
                (nil, "image/jpeg"),
            ]
            for (accept, type) in cases {
                var headers: HTTPFields = [:]
                if let accept { headers[.accept] = accept }
                let response = try await h.client.executeRequest(uri: path, method: .get, headers: headers, body: nil)
                #expect(response.status == .ok && response.headers[.contentType] == type, "\(accept ?? "no Accept"): \(response.headers)")
                #expect(response.headers[.vary] == "Accept")
                #expect(try Harness.decodeImage(response.body).width == 64)
            }
            // An image with alpha and no Accept comes as PNG, as encode chooses.
            let alpha = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            let png = try await h.client.executeRequest(uri: Self.url("thumbnail:w=50", alpha), method: .get, headers: [:], body: nil)
            #expect(png.headers[.contentType] == "image/png")
            #expect(try Harness.decodeImage(png.body).bands == 4)
        }
    }

    @Test func forgedExpiredForeignAndInvalidURLsAreRefused() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload("astronaut.jpg")["id"]?.stringValue)
            func get(_ path: String) async throws -> (Int, JSONValue?) {
                let response = try await h.client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
                return (Int(response.status.code), try? JSONValue.decode(Data(buffer: response.body)))
            }
            let good = Self.url("thumbnail:w=64", media)
            #expect(try await get(good).0 == 200)
            // One character of the operations changed after signing.
            #expect(try await get(good.replacingOccurrences(of: "w=64", with: "w=65")).0 == 403)
            // The mac of another URL.
            let other = Self.url("thumbnail:w=65", media)
            let otherMac = other.split(separator: "/")[1], goodParts = good.split(separator: "/")
            #expect(try await get("/img/\(otherMac)/" + goodParts.dropFirst(2).joined(separator: "/")).0 == 403)
            // Expired, and signed by a key the server does not know.
            #expect(try await get(Self.url("thumbnail:w=64", media, expires: Date().addingTimeInterval(-5))).0 == 403)
            #expect(try await get(Self.url("thumbnail:w=64", media, key: "no-such-key")).0 == 403)
            // Signed by tenant B's own key, for tenant A's media.
            let (status, body) = try await get(Self.url("thumbnail:w=64", media, key: "key-b"))
            #expect(status == 403 && body?["error"]?["code"] == "forbidden", "\(String(describing: body))")
            // A URL served once (and so remembered, parsed and verified) still stops at its expiry.
            // (15 s of life: a loaded machine must get both answers in before it ends.)
            let expiry = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 15).rounded(.down))
            let shortLived = Self.url("thumbnail:w=63", media, expires: expiry)
            #expect(try await get(shortLived).0 == 200)
            #expect(try await get(shortLived).0 == 200)
            try await Task.sleep(for: .seconds(max(0, expiry.timeIntervalSinceNow) + 0.5))
            #expect(try await get(shortLived).0 == 403)
            // Not yet expired: served, and a CDN keeps it no longer than the URL lives.
            let expiring = try await h.client.executeRequest(uri: Self.url("thumbnail:w=64", media, expires: Date().addingTimeInterval(600)),
                                                             method: .get, headers: [:], body: nil)
            #expect(expiring.status == .ok)
            let maxAge = expiring.headers[.cacheControl].flatMap { $0.split(separator: "=").dropFirst().first }.flatMap { Int($0.prefix(while: \.isNumber)) }
            #expect(maxAge.map { $0 > 500 && $0 <= 600 } == true, "\(String(describing: expiring.headers[.cacheControl]))")
            // Operations a job would refuse: 422 with a pointer into the list.
            let (invalid, problem) = try await get(Self.url("thumbnail:w=0/encode:f=webp", media))
            #expect(invalid == 422 && problem?["error"]?["pointer"] == "/0/width", "\(String(describing: problem))")
            let (unknown, named) = try await get(Self.url("thumbnail:w=10/sharpen", media))
            #expect(unknown == 422 && named?["error"]?["pointer"] == "/1/op")
            // Not the shape of an image URL at all.
            #expect(try await get("/img/nothing").0 == 404)
        }
    }

    /// A hundred clients asking for one cold URL at once: one render, one stored object, every answer the same image.
    @Test func simultaneousRequestsForAColdURLRenderOnce() async throws {
        try await Harness.run { h in
            let media = try #require(try await h.upload(try Fixture.corpus("jpeg-4k.jpg"))["id"]?.stringValue)
            let port = try #require(h.client.port)
            let url = "http://127.0.0.1:\(port)" + Self.url("thumbnail:w=400/encode:f=jpeg", media)
            let answers = try await withThrowingTaskGroup(of: (String?, ByteBuffer).self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(120))
                        #expect(response.status == .ok)
                        return (response.headers.first(name: "X-Kiln-Cache"), try await response.body.collect(upTo: 1 << 24))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.filter { $0.0 == "miss" }.count == 1, "\(answers.map(\.0))")
            #expect(Set(answers.map(\.1)).count == 1)
            #expect(try Harness.decodeImage(answers[0].1).width == 400)
            #expect(try await h.kiln.blobs.list(prefix: "image-cache/").count == 1)
        }
    }
}

extension HTTPField.Name {
    static let kilnCache = HTTPField.Name("X-Kiln-Cache")!
}
