import Foundation
import Storage
import KilnTestSupport
import Testing

/// AWS's own worked examples of SigV4 for S3 (the "Examples" of "Authenticating
/// Requests: Using the Authorization Header"): same inputs, same signatures.
@Suite(.ownThreads) struct S3SignerTests {
    let signer = S3Signer(credentials: .init(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
                          region: "us-east-1")
    let host = ("Host", "examplebucket.s3.amazonaws.com")
    let date = ("x-amz-date", "20130524T000000Z")

    func signature(_ authorization: String) -> String {
        String(authorization.split(separator: "=").last ?? "")
    }

    @Test func getObjectWithARange() {
        let authorization = signer.authorization(
            method: "GET", path: "/test.txt", query: [],
            headers: [host, ("Range", "bytes=0-9"), ("x-amz-content-sha256", S3Signer.emptyPayloadHash), date],
            payloadHash: S3Signer.emptyPayloadHash, amzDate: "20130524T000000Z")
        #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "))
        #expect(signature(authorization) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func putObjectWithAnEncodedKey() {
        let payload = S3Signer.payloadHash(Array("Welcome to Amazon S3.".utf8))
        #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        let authorization = signer.authorization(
            method: "PUT", path: "/" + S3Signer.uriEncode("test$file.text", keepSlash: true), query: [],
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), host, date, ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                      ("x-amz-content-sha256", payload)],
            payloadHash: payload, amzDate: "20130524T000000Z")
        #expect(signature(authorization) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func getBucketLifecycle() {
        let authorization = signer.authorization(
            method: "GET", path: "/", query: [("lifecycle", "")],
            headers: [host, ("x-amz-content-sha256", S3Signer.emptyPayloadHash), date],
            payloadHash: S3Signer.emptyPayloadHash, amzDate: "20130524T000000Z")
        #expect(signature(authorization) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func listObjectsWithSortedQuery() {
        let authorization = signer.authorization(
            method: "GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")],
            headers: [host, ("x-amz-content-sha256", S3Signer.emptyPayloadHash), date],
            payloadHash: S3Signer.emptyPayloadHash, amzDate: "20130524T000000Z")
        #expect(signature(authorization) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func datesAndEncoding() {
        #expect(S3Signer.amzDate(Date(timeIntervalSince1970: 1_369_353_600)) == "20130524T000000Z")
        #expect(S3Signer.amzDate(Date(timeIntervalSince1970: 1_764_547_199)) == "20251130T235959Z")
        #expect(S3Signer.uriEncode("a b/ü~*.mp4", keepSlash: true) == "a%20b/%C3%BC~%2A.mp4")
        #expect(S3Signer.uriEncode("a/b", keepSlash: false) == "a%2Fb")
    }
}

@Suite(.ownThreads) struct S3LocationTests {
    let keys = ["AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK"]

    @Test func awsIsVirtualHostedInItsRegion() throws {
        let location = try S3Location.parse("s3://media-bucket/kiln/outputs", environment: keys.merging(["AWS_REGION": "eu-west-1"]) { $1 })
        #expect(location.hostHeader == "media-bucket.s3.eu-west-1.amazonaws.com")
        #expect(location.scheme == "https")
        #expect(location.prefix == "kiln/outputs/")
        #expect(location.path(key: "jobs/j 1/a.jpg") == "/kiln/outputs/jobs/j%201/a.jpg")
        #expect(location.path(key: nil) == "/")
    }

    @Test func anEndpointIsPathStyleUnlessToldOtherwise() throws {
        var env = keys.merging(["S3_ENDPOINT": "http://minio.internal:9000", "AWS_SESSION_TOKEN": "tok"]) { $1 }
        var location = try S3Location.parse("s3://kiln", environment: env)
        #expect(location.hostHeader == "minio.internal:9000")
        #expect(location.path(key: "a/b") == "/kiln/a/b")
        #expect(location.path(key: nil) == "/kiln")
        #expect(location.credentials.sessionToken == "tok")
        #expect(location.region == "us-east-1")
        env["S3_FORCE_PATH_STYLE"] = "false"
        location = try S3Location.parse("s3://kiln/p/", environment: env)
        #expect(location.hostHeader == "kiln.minio.internal:9000")
        #expect(location.path(key: "a/b") == "/p/a/b")
    }

    @Test func badSettingsAreNamed() {
        #expect(throws: S3Location.ConfigurationError.self) { try S3Location.parse("s3://kiln", environment: [:]) }
        #expect(throws: S3Location.ConfigurationError.self) { try S3Location.parse("s3://Bad_Bucket/x", environment: keys) }
        #expect(throws: S3Location.ConfigurationError.self) { try S3Location.parse("s3://kiln/a//b", environment: keys) }
        #expect(throws: S3Location.ConfigurationError.self) { try S3Location.parse("s3://kiln/../b", environment: keys) }
        #expect(throws: S3Location.ConfigurationError.self) {
            try S3Location.parse("s3://kiln", environment: keys.merging(["S3_ENDPOINT": "ftp://x"]) { $1 })
        }
    }
}
