import Foundation
import Storage

/// The stores the contract tests run against: a local directory, and a bucket
/// on the S3 server `make test` starts (moto, signatures checked), one bucket per test.
enum StoreKind: String, CaseIterable, CustomStringConvertible, Sendable {
    case local, s3

    var description: String { rawValue }

    func make(partSize: Int = 8 << 20) async throws -> any BlobStore {
        let root = NSTemporaryDirectory() + "kiln-store-" + UUID().uuidString
        switch self {
        case .local:
            return try LocalBlobStore(root: root)
        case .s3:
            let store = try S3BlobStore(location: try TestS3.location(), stagingDirectory: root + "/staging", partSize: partSize)
            try await store.createBucketIfMissing()
            return store
        }
    }
}

enum TestS3 {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "KILN_TEST_S3_ENDPOINT is not set; run the suite with `make test` (it starts an S3 server)" }
    }

    /// A fresh bucket (and a key prefix, so prefixes are exercised too) on the test S3 server.
    static func location(bucket: String = "kiln-test-" + UUID().uuidString.prefix(8).lowercased(), secret: String? = nil) throws -> S3Location {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["KILN_TEST_S3_ENDPOINT"], let key = env["KILN_TEST_S3_ACCESS_KEY_ID"],
              let secretKey = env["KILN_TEST_S3_SECRET_ACCESS_KEY"] else { throw Missing() }
        return try S3Location.parse("s3://\(bucket)/under/a-prefix", environment: [
            "S3_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret ?? secretKey, "AWS_REGION": "us-east-1",
        ])
    }
}
