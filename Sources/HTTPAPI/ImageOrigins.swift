import AsyncHTTPClient
import Egress
import Foundation
import NIOCore

/// Where an image URL may take its source from, besides the signing tenant's
/// media: URLs under the prefixes the deployment lists (`KILN_IMAGE_ORIGINS`).
/// A source is fetched on a cold render only, with the webhooks' rules for
/// addresses (the name is resolved, every address judged, and the connection
/// made to the address judged: no loopback, private or link-local target
/// unless the deployment allows its network), no redirects, a deadline and
/// the upload limit for images.
public struct ImageOrigins: Sendable {
    /// Each `scheme://host[:port]/path/`, ending in `/`.
    public var prefixes: [String]
    public var egress: EgressPolicy
    public var maxBytes: Int
    public var deadlineSeconds: Double = 15

    public init(prefixes: [String] = [], egress: EgressPolicy = EgressPolicy(), maxBytes: Int = 50 << 20) {
        self.prefixes = prefixes
        self.egress = egress
        self.maxBytes = maxBytes
    }

    /// `https://cdn.example.com/,https://example.org/images/` as prefixes; nil
    /// when an entry is not an http(s) URL without user, query or fragment.
    public static func prefixes(parsing text: String) -> [String]? {
        var prefixes: [String] = []
        for raw in text.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard let components = URLComponents(string: entry), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  let host = components.host, !host.isEmpty, components.user == nil, components.query == nil, components.fragment == nil else {
                return nil
            }
            let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
            let port = components.port.map { ":\($0)" } ?? ""
            prefixes.append("\(scheme)://\(host.lowercased())\(port)\(path.hasSuffix("/") ? path : path + "/")")
        }
        return prefixes
    }

    /// Whether `url` lies under a listed prefix: same scheme, host and port, and
    /// a path below the prefix's that no `.` or `..` segment (plain or encoded) leaves.
    public func allows(_ url: String) -> Bool {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased(), components.user == nil, components.password == nil, components.fragment == nil else {
            return false
        }
        let path = components.percentEncodedPath
        let lowered = path.lowercased()
        guard !lowered.contains("%2e"), !lowered.contains("%2f"), !lowered.contains("%5c"), !path.contains("\\"),
              !path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) else {
            return false
        }
        let port = components.port.map { ":\($0)" } ?? ""
        let query = components.percentEncodedQuery.map { "?" + $0 } ?? ""
        let normalized = "\(scheme)://\(host)\(port)\(path)\(query)"
        return prefixes.contains { normalized.hasPrefix($0) }
    }

    /// Fetches `url` (allowed by `allows`) into the file at `path`.
    func fetch(_ url: String, to path: String) async throws {
        let destination: EgressPolicy.Destination
        do {
            destination = try await egress.destination(for: url)
        } catch {
            throw APIError(.forbidden, code: "origin_refused", message: "Kiln does not fetch from this origin: \(error.reason)")
        }
        try await destination.withClient(readSeconds: deadlineSeconds) { client in
            try await download(url, to: path, with: client)
        }
    }

    private func download(_ url: String, to path: String, with client: HTTPClient) async throws {
        let response: HTTPClientResponse
        do {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "User-Agent", value: "Kiln-Images/1")
            response = try await client.execute(request, timeout: .seconds(Int64(deadlineSeconds)))
        } catch {
            throw APIError(.badGateway, code: "origin_failed", message: "The origin did not answer")
        }
        guard response.status == .ok else {
            if response.status == .notFound || response.status == .gone {
                throw APIError(.notFound, code: "not_found", message: "The origin has no such image (\(response.status.code))")
            }
            throw APIError(.badGateway, code: "origin_failed", message: "The origin answered \(response.status.code)")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw APIError(.internalServerError, code: "internal", message: "cannot keep the fetched source")
        }
        defer { try? file.close() }
        var received = 0
        do {
            for try await chunk in response.body {
                received += chunk.readableBytes
                guard received <= maxBytes else {
                    throw APIError(.unprocessableContent, code: "input_too_large", message: "The source is larger than \(maxBytes) bytes")
                }
                try file.write(contentsOf: chunk.readableBytesView)
            }
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError(.badGateway, code: "origin_failed", message: "The origin's answer was cut off")
        }
    }
}
