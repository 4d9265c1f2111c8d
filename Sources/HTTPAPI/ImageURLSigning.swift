import Crypto
import Foundation

/// Image URLs, `/img/{signature}/{rest}`, where `rest` is an optional
/// `exp:{unix seconds}/` step, the operations in their URL form, and the
/// source: a media id (`med_…`) or `url:` and the base64url of an origin URL.
///
/// The signature is `{key id}.{mac}`: the mac is HMAC-SHA256 over
/// `"kiln-img\n" + rest`, exactly as it stands in the path, keyed with the
/// SHA-256 of one of the tenant's API keys (the server keeps only those
/// digests); the key id (8 characters) says which. A client signs with its API
/// key alone, and a URL opens nothing but that one rendering: any change to
/// the path, an expiry passed, or another tenant's key fails the check.
public struct ImageURLSigner: Sendable {
    struct Key: Sendable {
        var tenant: String
        var secret: SymmetricKey
    }

    private let keys: [String: [Key]]

    init(digests: [(tenant: String, digest: [UInt8])]) {
        var keys: [String: [Key]] = [:]
        for entry in digests {
            keys[Self.keyID(digest: entry.digest), default: []].append(Key(tenant: entry.tenant, secret: SymmetricKey(data: entry.digest)))
        }
        self.keys = keys
    }

    /// A parsed image path, before its signature is trusted.
    public struct Request: Equatable, Sendable {
        public var signature: String
        /// What the signature covers.
        public var signed: String
        public var expires: Date?
        public var operations: String
        public var source: Source
    }

    public enum Source: Equatable, Sendable {
        case media(String)
        case url(String)
    }

    public enum Failure: Error, Equatable {
        /// 404: not the shape of an image path.
        case malformed(String)
        /// 403: forged, expired, or not signed by a key of this deployment.
        case forbidden(String)
    }

    /// Splits `/img/…` (the part after `/img/`).
    public static func parse(_ path: Substring) throws(Failure) -> Request {
        guard path.utf8.count <= 4096 else { throw .malformed("the path is too long") }
        guard let slash = path.firstIndex(of: "/") else { throw .malformed("expected /img/{signature}/{operations}/{source}") }
        let signature = String(path[..<slash])
        let rest = path[path.index(after: slash)...]
        guard let last = rest.lastIndex(of: "/") else { throw .malformed("expected /img/{signature}/{operations}/{source}") }
        var operations = rest[..<last]
        let sourceText = rest[rest.index(after: last)...]
        var expires: Date?
        if operations.hasPrefix("exp:") {
            let end = operations.firstIndex(of: "/") ?? operations.endIndex
            guard let seconds = Int(operations[operations.index(operations.startIndex, offsetBy: 4)..<end]) else {
                throw .malformed("exp takes unix seconds")
            }
            expires = Date(timeIntervalSince1970: TimeInterval(seconds))
            operations = end == operations.endIndex ? operations[end...] : operations[operations.index(after: end)...]
        }
        guard !operations.isEmpty else { throw .malformed("no operations") }
        let source: Source
        if sourceText.hasPrefix("med_") {
            source = .media(String(sourceText))
        } else if sourceText.hasPrefix("url:"), let data = Data(base64URLEncoded: String(sourceText.dropFirst(4))),
                  let url = String(data: data, encoding: .utf8) {
            source = .url(url)
        } else {
            throw .malformed("the source is a media id (med_…) or url: and a base64url URL")
        }
        return Request(signature: signature, signed: String(rest), expires: expires, operations: String(operations), source: source)
    }

    /// The tenant whose key signed `request`. The mac is checked in constant
    /// time before the expiry is looked at.
    public func verify(_ request: Request, now: Date = Date()) throws(Failure) -> String {
        let parts = request.signature.split(separator: ".", omittingEmptySubsequences: false)
        // Only the one spelling of a mac (the last character has two unused bits), so one URL is one rendering.
        guard parts.count == 2, let mac = Data(base64URLEncoded: String(parts[1])), mac.count == 32, mac.base64URLEncoded == parts[1] else {
            throw .forbidden("the signature is not {key id}.{mac}")
        }
        let message = Data(("kiln-img\n" + request.signed).utf8)
        guard let key = keys[String(parts[0])]?.first(where: { HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: $0.secret) }) else {
            throw .forbidden("the signature does not match")
        }
        if let expires = request.expires, expires <= now { throw .forbidden("the URL expired") }
        return key.tenant
    }

    /// Signs `rest` (`[exp:…/]operations/source`) with an API key: the path
    /// to request, from `/img/`.
    public static func sign(_ rest: String, apiKey: String) -> String {
        let digest = Array(SHA256.hash(data: Data(apiKey.utf8)))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("kiln-img\n" + rest).utf8), using: SymmetricKey(data: digest))
        return "/img/" + keyID(digest: digest) + "." + Data(mac).base64URLEncoded + "/" + rest
    }

    /// `rest` for `operations` (URL form) of `source`, expiring at `expires`.
    public static func rest(operations: String, source: Source, expires: Date? = nil) -> String {
        let sourceText = switch source {
        case let .media(id): id
        case let .url(url): "url:" + Data(url.utf8).base64URLEncoded
        }
        return (expires.map { "exp:\(Int($0.timeIntervalSince1970))/" } ?? "") + operations + "/" + sourceText
    }

    static func keyID(digest: [UInt8]) -> String {
        String(Data(SHA256.hash(data: Data("kiln-img-key-id\n".utf8) + digest)).base64URLEncoded.prefix(8))
    }
}

extension APIKeys {
    /// Checks image URLs against these keys.
    public var imageURLSigner: ImageURLSigner { ImageURLSigner(digests: entries.map { ($0.tenant, $0.digest) }) }
}
