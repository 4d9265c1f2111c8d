import Foundation
import KilnTestSupport
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
            let store = try S3BlobStore(location: try TestEnvironment.s3Location(), stagingDirectory: root + "/staging", partSize: partSize)
            try await store.createBucketIfMissing()
            return store
        }
    }
}
