import Foundation
import NIOCore

extension S3BlobStore {
    /// Whether the bucket exists and these credentials may use it: HEAD on the bucket.
    public func checkAccess() async throws {
        try await expect("HEAD", location.bucket, try await send(.HEAD, key: nil), [200])
    }

    /// Creates the bucket unless it already exists (for tests, benches and `make run` against a fresh server).
    public func createBucketIfMissing() async throws {
        let head = try await send(.HEAD, key: nil)
        _ = try? await head.body.collect(upTo: 64 * 1024)
        guard head.status == .notFound else { return }
        var body: ByteBuffer?
        // us-east-1 is the default and must not be named; every other region must.
        if location.region != "us-east-1" {
            body = ByteBuffer(string: "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                + S3XML.escape(location.region) + "</LocationConstraint></CreateBucketConfiguration>")
        }
        try await expect("CREATE", location.bucket, try await send(.PUT, key: nil, body: body), [200, 409])
    }
}
