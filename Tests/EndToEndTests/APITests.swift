import Crypto
import Foundation
import HTTPTypes
import HTTPAPI
import Hummingbird
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// The HTTP contract: auth, error shapes, uploads, ranges, paging, docs, metrics.
@Suite(.ownThreads) struct APITests {
    @Test func healthReportsTheDatabase() async throws {
        try await Harness.run(withWorkers: false) { h in
            let response = try await h.client.executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(try h.json(response)["database"] == "ok")
        }
    }

    @Test func unreachableDatabaseAnswers503() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.databaseURL = "postgres://kiln@localhost:5432/kiln?host=/nonexistent-kiln-socket-dir"
        try await Harness.runUnready(configuration: configuration) { h in
            let health = try await h.client.executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil)
            #expect(health.status == .serviceUnavailable)
            #expect(try h.json(health)["database"] == "unreachable")
            let api = try await h.request(.get, "/v1/jobs")
            #expect(api.status == .serviceUnavailable)
            #expect(try h.json(api)["error"]?["code"] == "not_ready")
        }
    }

    @Test func errorsHaveOneShape() async throws {
        try await Harness.run(withWorkers: false) { h in
            let unknown = try await h.request(.get, "/v1/nothing-here")
            #expect(unknown.status == .notFound)
            #expect(try h.json(unknown)["error"]?["code"] == "not_found")

            let wrongMethod = try await h.request(.put, "/v1/jobs")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET, POST")
            #expect(try h.json(wrongMethod)["error"]?["code"] == "method_not_allowed")
            #expect(try await h.request(.patch, "/v1/jobs/job_x/files/a/b.webp").headers[.allow] == "GET, OPTIONS")

            let anonymous = try await h.client.executeRequest(uri: "/v1/jobs", method: .get, headers: [:], body: nil)
            #expect(anonymous.status == .unauthorized)
            #expect(try h.json(anonymous)["error"]?["code"] == "unauthorized")
            let wrongKey = try await h.request(.get, "/v1/jobs", key: "key-z")
            #expect(wrongKey.status == .unauthorized)

            let malformed = try await h.request(.post, "/v1/jobs", headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"input\": "))
            #expect(malformed.status == .badRequest)
            #expect(try h.json(malformed)["error"]?["code"] == "malformed_json")
            // A trailing comma is not JSON, however lenient Foundation's decoder is.
            let trailingComma = try await h.request(.post, "/v1/jobs", headers: [.contentType: "application/json"],
                                                    body: ByteBuffer(string: #"{"input": "med_x", "operations": [{"op": "probe"}],}"#))
            #expect(trailingComma.status == .badRequest)
            #expect(try h.json(trailingComma)["error"]?["code"] == "malformed_json")
        }
    }

    @Test func invalidOperationListIs422WithAPointerAndQueuesNothing() async throws {
        try await Harness.run(withWorkers: false) { h in
            let id = try #require(try await h.upload("gradient.webp")["id"]?.stringValue)
            let response = try await h.submit([
                "input": .string(id),
                "outputs": ["thumb": [["op": "thumbnail", "width": 10], ["op": "encode", "format": "tiff"]]],
            ])
            #expect(response.status == .unprocessableContent)
            let error = try #require(try h.json(response)["error"])
            #expect(error["pointer"] == "/outputs/thumb/1/format")
            #expect(error["message"]?.stringValue?.contains("jpeg") == true)
            let list = try h.json(try await h.request(.get, "/v1/jobs"))
            #expect(list["data"]?.arrayValue?.isEmpty == true)

            let missing = try await h.submit(["input": "med_000000000000000000000000", "operations": [["op": "thumbnail", "width": 5]]])
            #expect(missing.status == .unprocessableContent)
            #expect(try h.json(missing)["error"]?["pointer"] == "/input")
        }
    }

    @Test func uploadsAreSniffedHashedAndInspected() async throws {
        try await Harness.run(withWorkers: false) { h in
            let bytes = try Fixture.data("photo-exif6.jpg")
            // The client's Content-Type is a lie; the record says what the bytes are.
            let response = try await h.request(.post, "/v1/uploads", headers: [.contentType: "video/mp4"], body: ByteBuffer(data: bytes))
            #expect(response.status == .created)
            let media = try h.json(response)
            #expect(media["kind"] == "image")
            #expect(media["contentType"] == "image/jpeg")
            #expect(media["size"]?.intValue == bytes.count)
            #expect(media["sha256"]?.stringValue == SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
            #expect(media["width"] == 240 && media["height"] == 320, "display size after EXIF orientation")
            #expect(media["duration"] == .null)
            let created = try #require(media["createdAt"]?.stringValue)
            #expect(created.hasSuffix("Z") && (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(created)) != nil, "createdAt \(created) is not RFC 3339 UTC")
            #expect(response.headers[.location] == "/v1/media/\(media["id"]!.stringValue!)")

            let video = try await h.upload("clip.mp4")
            #expect(video["kind"] == "video" && video["contentType"] == "video/mp4")
            #expect(abs((video["duration"]?.doubleValue ?? 0) - 3.0) < 0.1)
            #expect(video["width"] == 320 && video["height"] == 240)

            let audio = try await h.upload("tone.mp3")
            #expect(audio["kind"] == "audio" && audio["contentType"] == "audio/mpeg")
            #expect(abs((audio["duration"]?.doubleValue ?? 0) - 2.0) < 0.1)

            let junk = try await h.request(.post, "/v1/uploads", body: ByteBuffer(data: try Fixture.data("random.bin")))
            #expect(junk.status == .unsupportedMediaType)
            #expect(try h.json(junk)["error"]?["code"] == "unsupported_media")

            let empty = try await h.request(.post, "/v1/uploads", body: ByteBuffer())
            #expect(empty.status == .badRequest)
        }
    }

    @Test func multipartUploadsTakeTheFilePart() async throws {
        try await Harness.run(withWorkers: false) { h in
            let png = try Fixture.data("alpha.png")
            let boundary = "kiln-test-boundary"
            var body = ByteBuffer()
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n")
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n")
            body.writeBytes(png)
            body.writeString("\r\n--\(boundary)--\r\n")
            let response = try await h.request(.post, "/v1/uploads", headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: body)
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let media = try h.json(response)
            #expect(media["contentType"] == "image/png")
            #expect(media["size"]?.intValue == png.count)
            #expect(media["width"] == 200 && media["height"] == 100)
            let content = try await h.request(.get, "/v1/media/\(media["id"]!.stringValue!)/content")
            #expect(Data(buffer: content.body) == png)
        }
    }

    @Test func hostileMultipartIsA400AndTheServerGoesOn() async throws {
        try await Harness.run(withWorkers: false) { h in
            var body = ByteBuffer(string: "--b\r\n")
            body.writeBytes([0xFF, 0x80, 0x3A, 0x20, 0x41])  // a header name of non-ASCII bytes
            body.writeString("\r\n\r\nxx\r\n--b--\r\n")
            let hostile = try await h.request(.post, "/v1/uploads", headers: [.contentType: "multipart/form-data; boundary=b"], body: body)
            #expect(hostile.status == .badRequest)
            let unclosed = try await h.request(.post, "/v1/uploads", headers: [.contentType: "multipart/form-data; boundary=b"],
                                               body: ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\u{FF}\u{D8}\u{FF}"))
            #expect(unclosed.status == .badRequest)
            let noBoundary = try await h.request(.post, "/v1/uploads", headers: [.contentType: "multipart/form-data"], body: ByteBuffer(string: "x"))
            #expect(try h.json(noBoundary)["error"]?["code"] == "malformed_multipart")
            #expect(try await h.client.executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    @Test func perKindLimitsAnswer413() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.uploadLimits.image = 1000
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let response = try await h.request(.post, "/v1/uploads", body: ByteBuffer(data: try Fixture.data("truncated.jpg")))
            #expect(response.status == .contentTooLarge)
            #expect(try h.json(response)["error"]?["code"] == "too_large")
            // A small image still fits.
            #expect(try await h.request(.post, "/v1/uploads", body: ByteBuffer(data: try Fixture.data("alpha.png"))).status == .created)
        }
    }

    /// A chunked multipart upload (no Content-Length to refuse early) whose other field is `noteBytes` long.
    static func chunkedMultipart(port: Int, key: String, noteBytes: Int) async throws -> (status: Int, body: String) {
        let script = #"""
            import http.client, sys
            port, key, note, png = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
            def body():
                yield b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
                for _ in range(note // 16384): yield b'x' * 16384
                yield b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
                yield open(png, 'rb').read()
                yield b'\r\n--B--\r\n'
            c = http.client.HTTPConnection('127.0.0.1', port)
            try:
                c.request('POST', '/v1/uploads', body=body(), encode_chunked=True,
                          headers={'Authorization': 'Bearer ' + key, 'Content-Type': 'multipart/form-data; boundary=B'})
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered before the body ended
            r = c.getresponse()
            print(r.status)
            print(r.read().decode())
            """#
        let output = String(decoding: try await runToolOffPool("python3", ["-c", script, "\(port)", key, "\(noteBytes)", Fixture.path("alpha.png")]),
                            as: UTF8.self)
        let lines = output.split(separator: "\n", maxSplits: 1).map(String.init)
        return (Int(lines.first ?? "") ?? 0, lines.count > 1 ? lines[1] : "")
    }

    @Test func everyByteOfAMultipartBodyCounts() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.uploadLimits = UploadLimits(image: 100_000, video: 100_000, audio: 100_000)
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let port = try #require(h.client.port)
            let small = try await Self.chunkedMultipart(port: port, key: h.key, noteBytes: 16384)
            #expect(small.status == 201, "\(small)")
            let huge = try await Self.chunkedMultipart(port: port, key: h.key, noteBytes: 1 << 20)
            #expect(huge.status == 413 && huge.body.contains("too_large"), "a 1 MiB field beside a small file: \(huge)")
            #expect(try await h.client.executeRequest(uri: "/healthz", method: .get, headers: [:], body: nil).status == .ok)
        }
    }

    @Test func tenantNamesAreCheckedAtStartUp() throws {
        for bad in ["a/b:key", "../x:key", "ten ant:key", ":key", "t:"] {
            #expect(throws: KilnConfiguration.ConfigurationError.self, "\(bad)") {
                _ = try Kiln(configuration: try TestEnvironment.configuration(apiKeys: bad), logger: TestEnvironment.logger())
            }
        }
        #expect(APIKeys.problem(in: "a/b:key")?.contains("a/b") == true)
        #expect(APIKeys.problem(in: "tenant-a:key-a, tenant_b:key:with:colons,barekey") == nil)
    }

    @Test func mediaContentHonoursRanges() async throws {
        try await Harness.run(withWorkers: false) { h in
            let bytes = try Fixture.data("clip.mp4")
            let id = try #require(try await h.upload("clip.mp4")["id"]?.stringValue)
            let whole = try await h.request(.get, "/v1/media/\(id)/content")
            #expect(whole.status == .ok)
            #expect(whole.headers[.acceptRanges] == "bytes")
            #expect(Data(buffer: whole.body) == bytes)

            let part = try await h.request(.get, "/v1/media/\(id)/content", headers: [.range: "bytes=100-199"])
            #expect(part.status == .partialContent)
            #expect(part.headers[.contentRange] == "bytes 100-199/\(bytes.count)")
            #expect(Data(buffer: part.body) == bytes[100..<200])

            let suffix = try await h.request(.get, "/v1/media/\(id)/content", headers: [.range: "bytes=-10"])
            #expect(Data(buffer: suffix.body) == bytes.suffix(10))

            let outside = try await h.request(.get, "/v1/media/\(id)/content", headers: [.range: "bytes=\(bytes.count + 5)-"])
            #expect(outside.status == .rangeNotSatisfiable)
            #expect(outside.headers[.contentRange] == "bytes */\(bytes.count)")
        }
    }

    @Test func tenantsSeeOnlyTheirOwnMedia() async throws {
        try await Harness.run(withWorkers: false) { h in
            let id = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            #expect(try await h.request(.get, "/v1/media/\(id)", key: "key-b").status == .notFound)
            #expect(try await h.request(.get, "/v1/media/\(id)/content", key: "key-b").status == .notFound)
            #expect(try await h.request(.delete, "/v1/media/\(id)", key: "key-b").status == .notFound)
            #expect(try await h.request(.get, "/v1/media/\(id)").status == .ok)
            #expect(try await h.request(.delete, "/v1/media/\(id)").status == .noContent)
            #expect(try await h.request(.get, "/v1/media/\(id)").status == .notFound)
        }
    }

    @Test func idempotencyKeyReturnsTheSameJob() async throws {
        try await Harness.run(withWorkers: false) { h in
            let id = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            let body: JSONValue = ["input": .string(id), "operations": [["op": "thumbnail", "width": 10]]]
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "abc"]
            let first = try h.json(try await h.submit(body, headers: key))
            let second = try h.json(try await h.submit(body, headers: key))
            #expect(first["id"] != nil && first["id"] == second["id"])
            let conflict = try await h.submit(["input": .string(id), "operations": [["op": "thumbnail", "width": 11]]], headers: key)
            #expect(conflict.status == .conflict)
            #expect(try h.json(conflict)["error"]?["code"] == "idempotency_conflict")
        }
    }

    @Test func fiftyConcurrentIdenticalSubmissionsMakeOneJob() async throws {
        try await Harness.run(withWorkers: false) { h in
            let id = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            let port = try #require(h.client.port)
            // Fifty connections at once, each with the same key and body. What is asserted is one job, not
            // speed: the fifty share a pool of 4 connections while the whole suite saturates both cores
            // (a clean-clone run took over 30 s for the last of them), so the client waits up to 3 minutes.
            let script = #"""
                import http.client, json, sys
                from concurrent.futures import ThreadPoolExecutor
                port, key, media = int(sys.argv[1]), sys.argv[2], sys.argv[3]
                body = json.dumps({"input": media, "operations": [{"op": "thumbnail", "width": 12}]})
                def submit(_):
                    c = http.client.HTTPConnection('127.0.0.1', port, timeout=180)
                    c.request('POST', '/v1/jobs', body=body, headers={'Authorization': 'Bearer ' + key,
                              'Content-Type': 'application/json', 'Idempotency-Key': 'fifty'})
                    r = c.getresponse()
                    return [r.status, json.loads(r.read()).get('id')]
                with ThreadPoolExecutor(50) as pool:
                    print(json.dumps(list(pool.map(submit, range(50)))))
                """#
            let output = try await runToolOffPool("python3", ["-c", script, "\(port)", h.key, id])
            let answers = try #require(try JSONSerialization.jsonObject(with: output) as? [[Any]])
            #expect(answers.count == 50)
            #expect(answers.allSatisfy { ($0[0] as? Int) == 202 }, "\(answers.map { $0[0] })")
            let ids = Set(answers.compactMap { $0[1] as? String })
            #expect(ids.count == 1, "one job for fifty identical requests: \(ids)")
            let listed = try h.json(try await h.request(.get, "/v1/jobs?limit=100"))["data"]?.arrayValue ?? []
            #expect(listed.count == 1)
        }
    }

    @Test func jobListPagesNewestFirst() async throws {
        try await Harness.run(withWorkers: false) { h in
            let id = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            var ids: [String] = []
            for width in 1...5 {
                ids.append(try #require(try h.json(try await h.submit(["input": .string(id), "operations": [["op": "thumbnail", "width": .number(Double(width))]]]))["id"]?.stringValue))
            }
            let first = try h.json(try await h.request(.get, "/v1/jobs?limit=3"))
            #expect(first["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == Array(ids.reversed().prefix(3)))
            let cursor = try #require(first["nextCursor"]?.stringValue)
            let second = try h.json(try await h.request(.get, "/v1/jobs?limit=3&cursor=\(cursor)"))
            #expect(second["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [ids[1], ids[0]])
            #expect(second["nextCursor"] == .null)
            #expect(try h.json(try await h.request(.get, "/v1/jobs?status=queued"))["data"]?.arrayValue?.count == 5)
            #expect(try await h.request(.get, "/v1/jobs?limit=0").status == .badRequest)
            #expect(try h.json(try await h.request(.get, "/v1/jobs", key: "key-b"))["data"]?.arrayValue?.isEmpty == true)
        }
    }

    @Test func openAPIDocumentsEveryRouteAndRoutesEveryDocumentedPath() async throws {
        let kiln = try Kiln(configuration: try TestEnvironment.configuration(), logger: TestEnvironment.logger())
        let routes = try kiln.makeRouter().routes
        #expect(routes.count >= 12)
        let document = try JSONValue.decode(try #require(OpenAPIDocument.load(publicURL: "http://x", registry: Stages.registry)))
        let paths = try #require(document["paths"]?.objectValue)
        var routed: Set<String> = []
        for route in routes {
            // Hummingbird spells parameters :id and a catch-all **; OpenAPI spells them {id} and {path}.
            let path = "/" + route.path.description.split(separator: "/").map { part in
                part.hasPrefix(":") ? "{\(part.dropFirst())}" : part == "**" ? "{path}" : String(part)
            }.joined(separator: "/")
            let method = route.method.rawValue.lowercased()
            routed.insert("\(method) \(path)")
            #expect(paths[path]?[method] != nil, "\(route.method) \(path) is missing from openapi.json")
        }
        for (path, item) in paths {
            for method in item.objectValue?.keys ?? [:].keys where ["get", "post", "put", "patch", "delete", "head", "options"].contains(method) {
                #expect(routed.contains("\(method) \(path)"), "openapi.json documents \(method.uppercased()) \(path), which is not routed")
            }
        }
        #expect(document["openapi"] == "3.1.0")
        // The operation language is the registry's, not a hand-written stand-in.
        let operations = try #require(document["components"]?["schemas"]?["Operation"]?["oneOf"]?.arrayValue)
        #expect(Set(operations.compactMap { $0["title"]?.stringValue }) == Set(Stages.registry.descriptors.map(\.name)))
    }

    /// The document as served (the operation schemas generated from the registry included)
    /// passes the OpenAPI 3.1 validator that client generators run first.
    @Test func openAPIDocumentIsValidOpenAPI31() async throws {
        let document = try #require(OpenAPIDocument.load(publicURL: "http://localhost:8080", registry: Stages.registry))
        let path = NSTemporaryDirectory() + "kiln-openapi-\(UUID().uuidString).json"
        try document.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let verdict = try await runProgramOffPool("python3", ["-m", "openapi_spec_validator", path])
        #expect(verdict.status == 0, "openapi-spec-validator: \(verdict.output) \(verdict.errors)")
    }

    @Test func metricsAreServedInPrometheusFormat() async throws {
        try await Harness.run(withWorkers: false) { h in
            _ = try await h.request(.get, "/v1/jobs")
            let response = try await h.client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            #expect(text.contains("kiln_jobs{status=\"queued\"}"))
            #expect(text.contains("hb_requests"), "HTTP request counter missing")
            #expect(text.contains("http_server_request_duration_bucket"), "HTTP latency histogram missing")
            #expect(text.contains("kiln_queue_depth") && text.contains("kiln_queue_oldest_seconds"))
        }
    }

    /// Its totals span every tenant: a deployment can require a token for it.
    @Test func metricsCanRequireABearerToken() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.metricsToken = "scrape-secret-123"
        try await Harness.run(configuration: configuration, withWorkers: false) { h in
            let anonymous = try await h.client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(anonymous.status == .unauthorized)
            let wrong = try await h.client.executeRequest(uri: "/metrics", method: .get, headers: [.authorization: "Bearer scrape-secret-124"], body: nil)
            #expect(wrong.status == .unauthorized)
            let scraped = try await h.client.executeRequest(uri: "/metrics", method: .get, headers: [.authorization: "Bearer scrape-secret-123"], body: nil)
            #expect(scraped.status == .ok && String(buffer: scraped.body).contains("kiln_jobs{status=\"succeeded\"}"))
        }
    }

    @Test func metricsCountStagesAndBytes() async throws {
        try await Harness.run { h in
            let job = try await h.runJob(on: "alpha.png", [["op": "thumbnail", "width": 20], ["op": "encode", "format": "webp"]])
            let file = try #require(job["outputs"]?["default"]?["files"]?.arrayValue?.first?["url"]?.stringValue)
            _ = try await h.fetch(url: file)
            let text = String(buffer: try await h.client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil).body)
            #expect(text.contains("kiln_stage_seconds") && text.contains("op=\"thumbnail\"") && text.contains("op=\"encode\""),
                    "a stage duration histogram per operation")
            #expect(text.contains("kiln_upload_bytes_total") && text.contains("kiln_served_bytes_total"))
        }
    }
}

@Suite(.ownThreads) struct JobControlTests {
    @Test func aQueuedJobCancelsAtOnce() async throws {
        try await Harness.run(withWorkers: false) { h in
            let id = try #require(try await h.upload("alpha.png")["id"]?.stringValue)
            let jobID = try #require(try h.json(try await h.submit(["input": .string(id), "operations": [["op": "thumbnail", "width": 10]]]))["id"]?.stringValue)
            let canceled = try await h.request(.post, "/v1/jobs/\(jobID)/cancel")
            #expect(canceled.status == .accepted)
            #expect(try h.json(canceled)["status"] == "canceled")
            let again = try await h.request(.post, "/v1/jobs/\(jobID)/cancel")
            #expect(again.status == .conflict)
            #expect(try await h.request(.post, "/v1/jobs/\(jobID)/cancel", key: "key-b").status == .notFound)
        }
    }

    @Test func pipelinesAndTheOperationSchemaAreServed() async throws {
        try await Harness.run(withWorkers: false) { h in
            let pipelines = try h.json(try await h.request(.get, "/v1/pipelines"))
            #expect(pipelines["data"]?.arrayValue?.contains { $0["name"] == "avatar" } == true)
            #expect(try await h.request(.get, "/v1/pipelines/avatar").status == .ok)
            #expect(try await h.request(.get, "/v1/pipelines/nope").status == .notFound)
            let schema = try await h.request(.get, "/v1/schema/operations.json")
            #expect(schema.status == .ok)
            #expect(try h.json(schema)["oneOf"]?.arrayValue?.isEmpty == false)
        }
    }
}
