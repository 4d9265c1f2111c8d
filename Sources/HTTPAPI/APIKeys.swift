import Crypto
import Foundation
import Storage

/// The accepted API keys and the tenant each belongs to. Keys are kept only as
/// SHA-256 digests and compared in constant time, so neither memory dumps nor
/// response timing reveal them.
public struct APIKeys: Sendable {
    struct Entry: Sendable {
        var tenant: String
        var digest: [UInt8]
    }

    let entries: [Entry]

    init(entries: [Entry]) { self.entries = entries }

    /// Adds a key known only by its SHA-256 digest (hex), e.g. the generated one kept in the database.
    public func adding(tenant: String, digestHex: String) -> APIKeys {
        var bytes: [UInt8] = []
        var index = digestHex.startIndex
        while index < digestHex.endIndex, let next = digestHex.index(index, offsetBy: 2, limitedBy: digestHex.endIndex) {
            guard let byte = UInt8(digestHex[index..<next], radix: 16) else { return self }
            bytes.append(byte)
            index = next
        }
        return APIKeys(entries: entries + [Entry(tenant: tenant, digest: bytes)])
    }

    /// SHA-256 of a key as hex, the form kept in the database.
    public static func digestHex(_ key: String) -> String { Hex.encode(digest(key)) }

    /// Parses `KILN_API_KEYS`: comma-separated `tenant:key`, or a bare key for `default`.
    public init(parsing specification: String) {
        entries = specification.split(separator: ",").compactMap { raw in
            let item = raw.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty else { return nil }
            if let colon = item.firstIndex(of: ":") {
                let tenant = String(item[..<colon]), key = String(item[item.index(after: colon)...])
                guard !tenant.isEmpty, !key.isEmpty else { return nil }
                return Entry(tenant: tenant, digest: Self.digest(key))
            }
            return Entry(tenant: "default", digest: Self.digest(item))
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// What is wrong with a `KILN_API_KEYS` value, or nil. Tenant names become
    /// parts of storage keys and log fields, so they are plain identifiers.
    public static func problem(in specification: String) -> String? {
        for raw in specification.split(separator: ",") {
            let item = raw.trimmingCharacters(in: .whitespaces)
            guard !item.isEmpty, let colon = item.firstIndex(of: ":") else { continue }
            let tenant = String(item[..<colon]), key = item[item.index(after: colon)...]
            guard isValidTenant(tenant) else {
                return "tenant \"\(tenant)\" must be 1 to 64 letters, digits, '-' or '_'"
            }
            if key.isEmpty { return "tenant \(tenant) has an empty key" }
        }
        return nil
    }

    public static func isValidTenant(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// A fresh random key, `kiln_` + 32 bytes base64url.
    public static func generate() -> String {
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
        return "kiln_" + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The tenant for a presented key. Every entry is compared, matched or not.
    public func tenant(for key: String) -> String? {
        let presented = Self.digest(key)
        var found: String?
        for entry in entries where Self.constantTimeEqual(entry.digest, presented) {
            found = found ?? entry.tenant
        }
        return found
    }

    /// A key's public name: `key_` and the first 12 hex digits of its SHA-256.
    /// Safe to store and show (it reveals nothing usable of a random key).
    public static func keyID(_ key: String) -> String { "key_" + Hex.encode(digest(key).prefix(6)) }

    static func digest(_ key: String) -> [UInt8] { Array(SHA256.hash(data: Data(key.utf8))) }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

import Synchronization

/// The live set of keys. Built empty and filled once the database is reachable,
/// because a generated key lives there (as a digest).
public final class APIKeyRing: Sendable {
    private let keys: Mutex<(keys: APIKeys, signer: ImageURLSigner, generation: Int)>

    public init(_ keys: APIKeys = APIKeys(parsing: "")) { self.keys = Mutex((keys, keys.imageURLSigner, 0)) }

    public func replace(with keys: APIKeys) {
        let signer = keys.imageURLSigner
        self.keys.withLock { $0 = (keys, signer, $0.generation + 1) }
    }

    public func tenant(for key: String) -> String? { keys.withLock { $0.keys.tenant(for: key) } }

    /// Checks image URLs against the keys of now.
    public var imageURLSigner: ImageURLSigner { keys.withLock { $0.signer } }

    /// The signer, and which set of keys it checks with (it changes with every `replace`).
    var imageURLSignerAndGeneration: (ImageURLSigner, Int) { keys.withLock { ($0.signer, $0.generation) } }
}
