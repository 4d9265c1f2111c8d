import Crypto
import Foundation
import Synchronization

/// Signs webhook messages as Standard Webhooks defines it: the secret is
/// `whsec_` + base64 of the key; the signature is base64 of
/// HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}"), sent as
/// `webhook-signature: v1,{signature}`.
public final class WebhookSigner: Sendable {
    private let key: Mutex<SymmetricKey?>

    public init(secret: String? = nil) {
        key = Mutex(secret.flatMap(Self.key(from:)))
    }

    /// Takes `secret` if it is a valid `whsec_` secret; false (and no change) if not.
    @discardableResult
    public func replace(secret: String) -> Bool {
        guard let parsed = Self.key(from: secret) else { return false }
        key.withLock { $0 = parsed }
        return true
    }

    /// Why `secret` is no Standard Webhooks secret, or nil if it is one.
    public static func problem(in secret: String) -> String? {
        guard secret.hasPrefix("whsec_") else { return "must start with whsec_" }
        guard let bytes = Data(base64Encoded: String(secret.dropFirst(6))) else { return "must be whsec_ followed by base64" }
        return bytes.count >= 24 ? nil : "must hold at least 24 bytes (32 recommended)"
    }

    /// A fresh secret of 32 random bytes.
    public static func generateSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    /// The `webhook-signature` header value for one message, or nil before a secret is set.
    public func signature(id: String, timestamp: Int, body: String) -> String? {
        guard let key = key.withLock({ $0 }) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(body)".utf8), using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The secret this signer holds, for a tenant that signs with the deployment's.
    public var secret: String? { key.withLock { $0 }.map { key in "whsec_" + key.withUnsafeBytes { Data($0) }.base64EncodedString() } }

    /// The `webhook-signature` value for `secrets` (Standard Webhooks: space-separated, one per secret),
    /// or nil if none of them is a valid secret.
    public static func signature(secrets: [String], id: String, timestamp: Int, body: String) -> String? {
        let parts = secrets.compactMap { WebhookSigner(secret: $0).signature(id: id, timestamp: timestamp, body: body) }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    private static func key(from secret: String) -> SymmetricKey? {
        guard problem(in: secret) == nil, let bytes = Data(base64Encoded: String(secret.dropFirst(6))) else { return nil }
        return SymmetricKey(data: bytes)
    }
}
