import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import KilnApp
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing

/// tus 1.0 resumable uploads, driven by the reference Python client (tuspy)
/// and by hand for the protocol's error cases.
@Suite(.ownThreads) struct TusUploadTests {
    static let resumable: HTTPField.Name = .init("Tus-Resumable")!
    static let offset: HTTPField.Name = .init("Upload-Offset")!
    static let length: HTTPField.Name = .init("Upload-Length")!
    static let checksum: HTTPField.Name = .init("Upload-Checksum")!
    static let mediaID: HTTPField.Name = .init("Kiln-Media-Id")!

    /// tuspy uploads three 16 KiB chunks and stops; a PATCH is then cut off
    /// halfway (its connection closed); a new uploader resumes from the offset
    /// the server reports, with sha1 checksums on each chunk, and finishes.
    static let client = """
        import hashlib, json, socket, sys, time, urllib.parse
        from tusclient import client
        base, key, path = sys.argv[1], sys.argv[2], sys.argv[3]
        chunk = 16 * 1024
        tus = client.TusClient(base + '/v1/uploads/tus', headers={'Authorization': 'Bearer ' + key})
        first = tus.uploader(path, chunk_size=chunk, metadata={'filename': 'clip.mp4'})
        first.upload(stop_at=3 * chunk)
        url = first.url
        after_first = first.get_offset()
        # A PATCH whose connection drops after half its body.
        data = open(path, 'rb').read()
        parts = urllib.parse.urlsplit(url)
        sock = socket.create_connection((parts.hostname, parts.port))
        head = ('PATCH %s HTTP/1.1\\r\\nHost: %s\\r\\nAuthorization: Bearer %s\\r\\nTus-Resumable: 1.0.0\\r\\n'
                'Content-Type: application/offset+octet-stream\\r\\nUpload-Offset: %d\\r\\nContent-Length: %d\\r\\n\\r\\n'
                % (parts.path, parts.netloc, key, after_first, chunk))
        sock.sendall(head.encode() + data[after_first:after_first + chunk // 2])
        time.sleep(0.3)
        sock.close()
        time.sleep(0.5)
        resumed = tus.uploader(path, chunk_size=chunk, url=url, upload_checksum=True)
        after_drop = resumed.get_offset()
        resumed.upload()
        import requests
        answer = requests.head(url, headers={'Authorization': 'Bearer ' + key, 'Tus-Resumable': '1.0.0'})
        print(json.dumps({'url': url, 'afterFirst': after_first, 'afterDrop': after_drop, 'size': len(data),
                          'sha256': hashlib.sha256(data).hexdigest(), 'media': answer.headers.get('Kiln-Media-Id'),
                          'offset': int(answer.headers['Upload-Offset'])}))
        """

    /// tuspy sends `Upload-Metadata:` with an empty value when given no metadata; that means none.
    @Test func tuspyUploadsWithoutMetadata() async throws {
        let script = NSTemporaryDirectory() + "kiln-tus-\(UUID().uuidString).py"
        try """
            import json, sys, requests
            from tusclient import client
            base, key, path = sys.argv[1], sys.argv[2], sys.argv[3]
            uploader = client.TusClient(base + '/v1/uploads/tus', headers={'Authorization': 'Bearer ' + key}).uploader(path, chunk_size=64 * 1024)
            uploader.upload()
            answer = requests.head(uploader.url, headers={'Authorization': 'Bearer ' + key, 'Tus-Resumable': '1.0.0'})
            print(json.dumps({'media': answer.headers.get('Kiln-Media-Id'), 'offset': int(answer.headers['Upload-Offset'])}))
            """.write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let photo = Fixture.path(try Fixture.corpus("jpeg-1080-o6.jpg"))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: photo)[.size] as? Int)
        try await Harness.run { h in
            let port = try #require(h.client.port)
            let result = try JSONValue.decode(try await runToolOffPool("python3", [script, "http://127.0.0.1:\(port)", h.key, photo]))
            #expect(result["offset"]?.doubleValue == Double(size))
            let media = try #require(result["media"]?.stringValue)
            let record = try h.json(try await h.request(.get, "/v1/media/\(media)"))
            // As displayed: EXIF orientation 6 turns the stored 1920x1080 upright.
            #expect(record["width"] == 1080 && record["height"] == 1920, "\(record)")
        }
    }

    @Test func tuspyResumesAnInterruptedUploadAndTheMediaMatches() async throws {
        let video = NSTemporaryDirectory() + "kiln-tus-\(UUID().uuidString).mp4"
        _ = try runTool("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=duration=4:size=640x360:rate=25",
                                   "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", video])
        let script = NSTemporaryDirectory() + "kiln-tus-\(UUID().uuidString).py"
        try Self.client.write(toFile: script, atomically: true, encoding: .utf8)
        defer {
            try? FileManager.default.removeItem(atPath: video)
            try? FileManager.default.removeItem(atPath: script)
        }
        try await Harness.run { h in
            let port = try #require(h.client.port)
            let output = try await runToolOffPool("python3", [script, "http://127.0.0.1:\(port)", h.key, video])
            let result = try JSONValue.decode(output)
            let chunk = 16 * 1024
            let size = try #require(result["size"]?.doubleValue)
            #expect(size > Double(5 * chunk), "the video is large enough to need several chunks: \(size)")
            #expect(result["afterFirst"]?.doubleValue == Double(3 * chunk))
            // What arrived of the cut PATCH was kept: the resume starts past the first three chunks.
            let afterDrop = try #require(result["afterDrop"]?.doubleValue)
            #expect(afterDrop > Double(3 * chunk) && afterDrop <= Double(3 * chunk + chunk / 2), "\(result)")
            #expect(result["offset"]?.doubleValue == size)
            let media = try #require(result["media"]?.stringValue, "\(result)")
            let record = try h.json(try await h.request(.get, "/v1/media/\(media)"))
            #expect(record["sha256"] == result["sha256"], "\(record)")
            #expect(record["kind"] == "video" && record["size"]?.doubleValue == size)
            // The bytes read back whole.
            let content = try await h.request(.get, "/v1/media/\(media)/content")
            let digest = SHA256.hash(data: Data(buffer: content.body)).map { String(format: "%02x", $0) }.joined()
            #expect(digest == result["sha256"]?.stringValue)
        }
    }

    @Test func theProtocolsErrorsAndTermination() async throws {
        try await Harness.run { h in
            let options = try await h.request(.options, "/v1/uploads/tus")
            #expect(options.status == .noContent && options.headers[Self.resumable] == "1.0.0")
            #expect(options.headers[HTTPField.Name("Tus-Extension")!]?.contains("termination") == true)
            #expect(options.headers[HTTPField.Name("Tus-Checksum-Algorithm")!]?.contains("sha256") == true)

            // No Tus-Resumable: 412.
            #expect(try await h.request(.post, "/v1/uploads/tus", headers: [Self.length: "10"]).status == .preconditionFailed)
            // Larger than any upload Kiln accepts: 413 before a byte is sent.
            #expect(try await h.request(.post, "/v1/uploads/tus", headers: [Self.resumable: "1.0.0", Self.length: "\(Int.max)"]).status == .contentTooLarge)

            let bytes = try Fixture.data("astronaut.jpg")
            let created = try await h.request(.post, "/v1/uploads/tus", headers: [Self.resumable: "1.0.0", Self.length: "\(bytes.count)"])
            #expect(created.status == .created)
            let location = try #require(created.headers[.location])
            let path = location.replacingOccurrences(of: h.kiln.configuration.publicURL, with: "")
            func patch(_ range: Range<Int>, at offset: Int, checksum: String? = nil) async throws -> TestResponse {
                var headers: HTTPFields = [Self.resumable: "1.0.0", .contentType: "application/offset+octet-stream", Self.offset: "\(offset)"]
                if let checksum { headers[Self.checksum] = checksum }
                return try await h.request(.patch, path, headers: headers, body: ByteBuffer(data: bytes[range]))
            }
            let first = try await patch(0..<5000, at: 0)
            #expect(first.status == .noContent && first.headers[Self.offset] == "5000")
            // The wrong offset: 409, nothing kept.
            #expect(try await patch(5000..<10000, at: 500).status == .conflict)
            // A chunk of 1 byte that does not finish the upload: refused (each chunk is an object and a row).
            let tiny = try await patch(5000..<5001, at: 5000)
            let tinyCode = try h.json(tiny)["error"]?["code"]
            #expect(tiny.status == .badRequest && tinyCode == "chunk_too_small", "\(String(buffer: tiny.body))")
            // A checksum that does not match: 460, nothing kept.
            let wrong = Data(SHA256.hash(data: Data("other".utf8))).base64EncodedString()
            #expect(try await patch(5000..<10000, at: 5000, checksum: "sha256 \(wrong)").status.code == 460)
            let head = try await h.request(.head, path, headers: [Self.resumable: "1.0.0"])
            #expect(head.headers[Self.offset] == "5000" && head.headers[Self.length] == "\(bytes.count)")
            // Another tenant does not see it.
            #expect(try await h.request(.head, path, headers: [Self.resumable: "1.0.0"], key: "key-b").status == .notFound)
            // Up to the last byte, then the last byte alone (a small chunk that completes the upload is fine).
            let right = Data(SHA256.hash(data: bytes[5000..<(bytes.count - 1)])).base64EncodedString()
            let most = try await patch(5000..<(bytes.count - 1), at: 5000, checksum: "sha256 \(right)")
            #expect(most.status == .noContent && most.headers[Self.offset] == "\(bytes.count - 1)")
            let last = try await patch((bytes.count - 1)..<bytes.count, at: bytes.count - 1)
            #expect(last.status == .noContent && last.headers[Self.offset] == "\(bytes.count)")
            let media = try #require(last.headers[Self.mediaID])
            let record = try h.json(try await h.request(.get, "/v1/media/\(media)"))
            #expect(record["width"] != nil && record["kind"] == "image", "\(record)")

            // Termination: gone for good.
            let other = try await h.request(.post, "/v1/uploads/tus", headers: [Self.resumable: "1.0.0", Self.length: "100"])
            let otherPath = try #require(other.headers[.location]).replacingOccurrences(of: h.kiln.configuration.publicURL, with: "")
            #expect(try await h.request(.delete, otherPath, headers: [Self.resumable: "1.0.0"]).status == .noContent)
            #expect(try await h.request(.head, otherPath, headers: [Self.resumable: "1.0.0"]).status == .notFound)
        }
    }
}
