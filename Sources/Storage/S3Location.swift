import Foundation

/// Where an S3 store's objects are: the endpoint, the bucket, a key prefix,
/// the region and how the bucket is addressed. Read from `KILN_STORAGE=s3://bucket/prefix`
/// and the usual variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_REGION`, `S3_ENDPOINT`).
public struct S3Location: Sendable, Equatable {
    public enum Addressing: String, Sendable {
        /// `https://s3.example.com/bucket/key`: what MinIO, Ceph and moto answer to by default.
        case path
        /// `https://bucket.s3.region.amazonaws.com/key`: AWS's default.
        case virtualHosted
    }

    public var scheme: String
    public var host: String
    public var port: Int?
    public var bucket: String
    /// Prepended to every key; empty or ending in `/`.
    public var prefix: String
    public var region: String
    public var addressing: Addressing
    public var credentials: S3Signer.Credentials

    public init(scheme: String = "https", host: String, port: Int? = nil, bucket: String, prefix: String = "", region: String,
                addressing: Addressing, credentials: S3Signer.Credentials) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.bucket = bucket
        self.prefix = prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/"
        self.region = region
        self.addressing = addressing
        self.credentials = credentials
    }

    public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
        case invalid(String, String)
        public var description: String {
            switch self { case let .invalid(name, why): "\(name): \(why)" }
        }
    }

    /// `s3://bucket/prefix` plus the environment. Without `S3_ENDPOINT` it is AWS
    /// (virtual-hosted, `s3.REGION.amazonaws.com`); with one, path-style unless
    /// `S3_FORCE_PATH_STYLE=false`.
    public static func parse(_ url: String, environment env: [String: String]) throws -> S3Location {
        guard url.hasPrefix("s3://") else { throw ConfigurationError.invalid("KILN_STORAGE", "expected s3://bucket/prefix, got \(url)") }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        guard Self.isValidBucket(bucket) else {
            throw ConfigurationError.invalid("KILN_STORAGE", "'\(bucket)' is not a valid bucket name (3-63 lower-case letters, digits, dots and hyphens)")
        }
        let parts = prefix.split(separator: "/", omittingEmptySubsequences: false)
        if !prefix.isEmpty, (prefix.hasSuffix("/") ? parts.dropLast() : parts[...]).contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) {
            throw ConfigurationError.invalid("KILN_STORAGE", "the key prefix '\(prefix)' has an empty, . or .. part")
        }
        func value(_ names: String...) -> String? {
            names.lazy.compactMap { env[$0] }.first { !$0.isEmpty }
        }
        guard let accessKey = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") else {
            throw ConfigurationError.invalid("KILN_STORAGE", "S3 storage needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let credentials = S3Signer.Credentials(accessKeyID: accessKey, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN"))
        let region = value("AWS_REGION", "AWS_DEFAULT_REGION") ?? "us-east-1"
        let forcePath = value("S3_FORCE_PATH_STYLE").map { ["1", "true", "yes"].contains($0.lowercased()) }
        guard let endpoint = value("S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL") else {
            return S3Location(host: "s3.\(region).amazonaws.com", bucket: bucket, prefix: prefix, region: region,
                              addressing: forcePath == true ? .path : .virtualHosted, credentials: credentials)
        }
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty,
              components.path.isEmpty || components.path == "/"
        else { throw ConfigurationError.invalid("S3_ENDPOINT", "expected http(s)://host[:port], got \(endpoint)") }
        return S3Location(scheme: scheme, host: host, port: components.port, bucket: bucket, prefix: prefix, region: region,
                          addressing: forcePath == false ? .virtualHosted : .path, credentials: credentials)
    }

    static func isValidBucket(_ name: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        return (3...63).contains(name.count) && name.allSatisfy(allowed.contains)
            && name.first != "-" && name.first != "." && name.last != "-" && name.last != "."
    }

    /// `s3://bucket/prefix`, as `KILN_STORAGE` names it.
    public var url: String { "s3://\(bucket)/\(prefix)" }

    /// `scheme://host[:port]`, as `S3_ENDPOINT` names it.
    public var endpoint: String { "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")" }

    /// The `Host` header: the bucket in front for virtual-hosted addressing,
    /// the port only when it is not the scheme's own.
    public var hostHeader: String {
        let name = addressing == .virtualHosted ? "\(bucket).\(host)" : host
        guard let port, port != (scheme == "https" ? 443 : 80) else { return name }
        return "\(name):\(port)"
    }

    /// The canonical (percent-encoded) path of an object, or of the bucket for `key == nil`.
    public func path(key: String?) -> String {
        let bucketPart = addressing == .path ? "/" + bucket : ""
        guard let key else { return bucketPart.isEmpty ? "/" : bucketPart }
        return bucketPart + "/" + S3Signer.uriEncode(prefix + key, keepSlash: true)
    }

    /// The store's key for an S3 object key, or nil when it lies outside the prefix.
    func storeKey(_ objectKey: String) -> String? {
        objectKey.hasPrefix(prefix) ? String(objectKey.dropFirst(prefix.count)) : nil
    }
}
