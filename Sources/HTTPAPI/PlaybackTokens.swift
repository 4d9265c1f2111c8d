import Crypto
import Foundation
import Synchronization

/// Signs and checks the tokens of public URLs (`/play/{token}/…` for a job's
/// files, `/links/{token}` for an upload): a tenant's job or media and an expiry,
/// HMAC-SHA256 signed with a secret every Kiln process shares (from
/// `KILN_SIGNING_SECRET`, or made once and kept in PostgreSQL). The token sits
/// in the path so the relative URIs inside playlists resolve under it.
public final class PlaybackSigner: Sendable {
    private let key: Mutex<SymmetricKey?>

    public init(secret: String? = nil) { key = Mutex(secret.map { SymmetricKey(data: Data($0.utf8)) }) }

    public func replace(secret: String) { key.withLock { $0 = SymmetricKey(data: Data(secret.utf8)) } }

    /// A fresh random secret, for a deployment that set none.
    public static func generateSecret() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64URLEncoded
    }

    public struct Grant: Equatable, Sendable {
        public var tenant: String
        /// The job (`job_…`) or media (`med_…`) the token opens.
        public var subject: String
        public var expires: Date
    }

    /// `payload.signature`, both base64url; the payload is `tenant \n subject \n expiry`.
    public func token(tenant: String, subject: String, expires: Date) -> String? {
        guard let key = key.withLock({ $0 }) else { return nil }
        let payload = Data("\(tenant)\n\(subject)\n\(Int(expires.timeIntervalSince1970))".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return payload.base64URLEncoded + "." + Data(mac).base64URLEncoded
    }

    /// The grant a token carries, or nil when it is forged, malformed or expired.
    /// The signature is checked in constant time before anything in it is trusted.
    public func verify(_ token: String, now: Date = Date()) -> Grant? {
        guard let key = key.withLock({ $0 }), token.count <= 512 else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let payload = Data(base64URLEncoded: String(parts[0])), let mac = Data(base64URLEncoded: String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: payload, using: key) else { return nil }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard fields.count == 3, let seconds = Int(fields[2]) else { return nil }
        let expires = Date(timeIntervalSince1970: TimeInterval(seconds))
        guard expires > now else { return nil }
        return Grant(tenant: String(fields[0]), subject: String(fields[1]), expires: expires)
    }

    /// The expiry of tokens handed out in job resources: at least `lifetime`
    /// from now, rounded up to the hour so that reads within an hour agree.
    public static func expiry(lifetime: TimeInterval = 3600, now: Date = Date()) -> Date {
        let hour = 3600.0
        return Date(timeIntervalSince1970: ((now.timeIntervalSince1970 + lifetime) / hour).rounded(.up) * hour)
    }
}

extension Data {
    var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(base64URLEncoded text: String) {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
