import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFileSystem
import NIOFoundationCompat
import NIOHTTP1

/// A blob store in an S3-compatible bucket (AWS, MinIO, Ceph, moto), shared by
/// every Kiln process on every host. Requests are signed with SigV4 and sent
/// over async-http-client; files go up in one PUT, or in parts above
/// `partSize`; reads stream, with Range passed through.
public struct S3BlobStore: BlobStore {
    public let location: S3Location
    /// Local files wait here until `put` sends them (uploads being received, outputs being published).
    public let stagingDirectory: String
    /// Files up to this size go in one PUT; larger ones in parts of this size (S3's minimum is 5 MiB).
    public let partSize: Int
    /// Parts of one file in flight at once.
    public let partConcurrency = 4
    let signer: S3Signer
    let client: HTTPClient

    public init(location: S3Location, stagingDirectory: String, partSize: Int = 8 << 20, client: HTTPClient = S3BlobStore.sharedClient) throws {
        precondition(partSize >= 5 << 20, "S3 refuses parts under 5 MiB")
        self.location = location
        self.stagingDirectory = stagingDirectory
        self.partSize = partSize
        self.client = client
        signer = S3Signer(credentials: location.credentials, region: location.region)
        try FileManager.default.createDirectory(atPath: stagingDirectory, withIntermediateDirectories: true)
    }

    /// One client for every S3 store in the process, never shut down (as `HTTPClient.shared`),
    /// with room for every worker slot's and API request's connection at once.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.decompression = .disabled
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    // MARK: BlobStore

    public func put(key: String, file: String) async throws {
        try Self.validate(key)
        guard let info = try await FileSystem.shared.info(forFileAt: FilePath(file)) else { throw BlobStoreError.notFound(file) }
        let size = Int(info.size)
        if size <= partSize {
            let body = try await Self.read(file: file, offset: 0, length: size)
            try await expect("PUT", key, try await send(.PUT, key: key, body: body), [200])
        } else {
            try await putInParts(key: key, file: file, size: size)
        }
        try? FileManager.default.removeItem(atPath: file)
    }

    public func size(key: String) async throws -> Int? {
        try Self.validate(key)
        let response = try await send(.HEAD, key: key)
        if response.status == .notFound { return nil }
        try await expect("HEAD", key, response, [200])
        return response.headers.first(name: "content-length").flatMap(Int.init)
    }

    public func read(key: String, range: ClosedRange<Int>?, into sink: (ByteBuffer) async throws -> Void) async throws {
        try Self.validate(key)
        let headers = range.map { [("range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        let response = try await send(.GET, key: key, headers: headers, timeout: .hours(6))
        if response.status == .notFound {
            _ = try? await response.body.collect(upTo: 64 * 1024)
            throw BlobStoreError.notFound(key)
        }
        // The body streams to the sink; only an error's body is collected.
        guard response.status.code == (range == nil ? 200 : 206) else {
            try await expect("GET", key, response, [])
            return
        }
        for try await chunk in response.body { try await sink(chunk) }
    }

    /// Downloaded into `scratch`: C libraries open local files only.
    public func localFile(key: String, scratch: String) async throws -> String {
        try Self.validate(key)
        // Distinct keys, distinct files (a digest of the whole key), and plain names for the C libraries.
        let digest = Hex.encode(SHA256.hash(data: Array(key.utf8)).prefix(8))
        let path = scratch + "/blob-" + digest + "-" + (key.split(separator: "/").last.map(String.init) ?? "object")
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try await download(key: key, to: path)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return path
    }

    private func download(key: String, to path: String) async throws {
        try await FileSystem.shared.withFileHandle(
            forWritingAt: FilePath(path), options: .newFile(replaceExisting: true)
        ) { handle in
            var offset: Int64 = 0
            try await read(key: key, range: nil) { chunk in
                try await handle.write(contentsOf: chunk, toAbsoluteOffset: offset)
                offset += Int64(chunk.readableBytes)
            }
        }
    }

    /// Like the local store's directory removal: `a/b` removes the object `a/b`
    /// and everything under `a/b/`; `a/b/` only what is under it.
    public func deleteAll(prefix: String) async throws {
        var keys = try await list(prefix: prefix.hasSuffix("/") ? prefix : prefix + "/")
        if !prefix.hasSuffix("/") {
            try Self.validate(prefix)
            keys.append(prefix)
        }
        for start in stride(from: 0, to: keys.count, by: 1000) {
            try await deleteObjects(Array(keys[start..<min(start + 1000, keys.count)]))
        }
    }

    public func list(prefix: String) async throws -> [String] {
        if prefix != "/" { try Self.validate(prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix) }
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", location.prefix + prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(.GET, key: nil, query: query)
            let body = try await expect("LIST", prefix, response, [200])
            let listing = S3XML.listing(Data(buffer: body))
            keys += listing.keys.compactMap(location.storeKey)
            token = listing.nextContinuationToken
        } while token != nil
        return keys
    }

    public func delete(key: String) async throws {
        try Self.validate(key)
        try await expect("DELETE", key, try await send(.DELETE, key: key), [200, 204, 404])
    }

    // MARK: Requests

    /// DeleteObjects: up to 1,000 keys in one request (S3 requires its body's MD5).
    private func deleteObjects(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        let body = ByteBuffer(string: S3XML.deleteRequest(keys: keys.map { location.prefix + $0 }))
        let md5 = Data(Insecure.MD5.hash(data: body.readableBytesView)).base64EncodedString()
        let response = try await send(.POST, key: nil, query: [("delete", "")], headers: [("content-md5", md5)], body: body)
        let answer = try await expect("DELETE", keys[0], response, [200])
        // Quiet mode lists only the failures.
        if let failure = S3XML.error(Data(buffer: answer)) {
            throw S3Error(operation: "DELETE", key: keys[0], status: 200, code: failure.code, message: failure.message)
        }
    }

    /// A signed request; network failures and S3's 500/503 ("slow down") are tried
    /// again, three more times with growing pauses, as AWS's SDKs do.
    func send(_ method: HTTPMethod, key: String?, query: [(String, String)] = [], headers extra: [(String, String)] = [],
              body: ByteBuffer? = nil, timeout: TimeAmount = .minutes(5)) async throws -> HTTPClientResponse {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let response = try await client.execute(request(method, key: key, query: query, headers: extra, body: body), timeout: timeout)
                guard [500, 502, 503, 504].contains(response.status.code), attempt < 4 else { return response }
                _ = try? await response.body.collect(upTo: 64 * 1024)
            } catch let error as HTTPClientError where error == .cancelled || error == .deadlineExceeded {
                throw error
            } catch {
                if attempt >= 4 || Task.isCancelled { throw error }
            }
            try await Task.sleep(for: .milliseconds(100 << (2 * (attempt - 1))))
        }
    }

    func request(_ method: HTTPMethod, key: String?, query: [(String, String)], headers extra: [(String, String)],
                 body: ByteBuffer?) -> HTTPClientRequest {
        let path = location.path(key: key)
        let queryString = query
            .map { S3Signer.uriEncode($0.0, keepSlash: false) + "=" + S3Signer.uriEncode($0.1, keepSlash: false) }
            .joined(separator: "&")
        let payloadHash = body.map { S3Signer.payloadHash($0.readableBytesView) } ?? S3Signer.emptyPayloadHash
        let amzDate = S3Signer.amzDate(Date())
        var signed = [("host", location.hostHeader), ("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash)]
        if let token = location.credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
        signed += extra
        var request = HTTPClientRequest(url: "\(location.scheme)://\(location.hostHeader)\(path)\(queryString.isEmpty ? "" : "?" + queryString)")
        request.method = method
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        request.headers.add(name: "authorization", value: signer.authorization(
            method: method.rawValue, path: path, query: query, headers: signed, payloadHash: payloadHash, amzDate: amzDate))
        if let body { request.body = .bytes(body) }
        return request
    }

    /// The response's body when its status is one of `statuses`; S3's error otherwise.
    @discardableResult
    func expect(_ operation: String, _ key: String, _ response: HTTPClientResponse, _ statuses: Set<UInt>) async throws -> ByteBuffer {
        let body = try await response.body.collect(upTo: 16 << 20)
        guard statuses.contains(response.status.code) else {
            let error = S3XML.error(Data(buffer: body))
            throw S3Error(operation: operation, key: key, status: Int(response.status.code),
                          code: error?.code ?? response.status.reasonPhrase, message: error?.message ?? "")
        }
        return body
    }

    /// `length` bytes of a file from `offset`, in one buffer (a part, or a whole small file).
    static func read(file: String, offset: Int, length: Int) async throws -> ByteBuffer {
        try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(file)) { handle in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(length)
            while buffer.readableBytes < length {
                var chunk = try await handle.readChunk(fromAbsoluteOffset: Int64(offset + buffer.readableBytes),
                                                       length: .bytes(Int64(length - buffer.readableBytes)))
                if chunk.readableBytes == 0 { throw BlobStoreError.notFound(file) }
                buffer.writeBuffer(&chunk)
            }
            return buffer
        }
    }
}

/// An S3 answer that was not the expected one: its status and S3's own error code.
public struct S3Error: Error, CustomStringConvertible, Equatable {
    public var operation: String
    public var key: String
    public var status: Int
    public var code: String
    public var message: String

    public var description: String {
        "S3 \(operation) \(key): \(status) \(code)\(message.isEmpty ? "" : ": " + message)"
    }
}

extension S3BlobStore {
    /// CopyObject: S3 copies inside the bucket, in one request (not preceded by a HEAD:
    /// reusing an HLS ladder copies every segment). S3 copies up to 5 GiB so; a larger
    /// source is refused with `InvalidRequest`, and then comes down and goes up in parts.
    public func copy(from source: String, to destination: String) async throws {
        try Self.validate(source)
        try Self.validate(destination)
        let copySource = "/" + location.bucket + "/" + S3Signer.uriEncode(location.prefix + source, keepSlash: true)
        let response = try await send(.PUT, key: destination, headers: [("x-amz-copy-source", copySource)])
        if response.status == .notFound {
            _ = try? await response.body.collect(upTo: 64 * 1024)
            throw BlobStoreError.notFound(source)
        }
        let answer: ByteBuffer
        do {
            answer = try await expect("COPY", source, response, [200])
        } catch let error as S3Error where error.status == 400 && error.code == "InvalidRequest" {
            let scratch = stagingDirectory + "/copy-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            try await put(key: destination, file: try await localFile(key: source, scratch: scratch))
            return
        }
        // Like CompleteMultipartUpload, a copy can fail after its 200: the error is in the body.
        if let failure = S3XML.error(Data(buffer: answer)) {
            throw S3Error(operation: "COPY", key: source, status: 200, code: failure.code, message: failure.message)
        }
    }
}
