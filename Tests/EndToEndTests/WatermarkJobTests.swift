import Foundation
import HTTPTypes
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing
import VipsBindings

/// A watermark from the tenant's own upload, fetched by the worker beside the input.
@Suite(.ownThreads) struct WatermarkJobTests {
    func uploadLogo(_ h: Harness, key: String? = nil) async throws -> String {
        let logo = try Data(contentsOf: URL(fileURLWithPath: Fixture.repositoryRoot + "/Pipelines/assets/kiln-logo.png"))
        let response = try await h.request(.post, "/v1/uploads", headers: [.contentType: "image/png"], body: ByteBuffer(data: logo), key: key)
        return try #require(try h.json(response)["id"]?.stringValue)
    }

    @Test func anUploadedImageMarksTheOutput() async throws {
        try await Harness.run { h in
            let logo = try await uploadLogo(h)
            let plain = try await h.runJob(on: "gradient.webp", [["op": "encode", "format": "png"]])
            let marked = try await h.runJob(on: "gradient.webp", [
                ["op": "watermark", "image": .string(logo), "gravity": "southeast", "margin": 0, "scale": 0.5, "opacity": 1],
                ["op": "encode", "format": "png"],
            ])
            #expect(marked["status"] == "succeeded", "\(marked)")
            let before = try Harness.decodeImage(try await h.fetch(url: try #require(plain["outputs"]?["default"]?["files"]?.arrayValue?.first?["url"]?.stringValue)).body)
            let after = try Harness.decodeImage(try await h.fetch(url: try #require(marked["outputs"]?["default"]?["files"]?.arrayValue?.first?["url"]?.stringValue)).body)
            #expect(after.width == 300 && after.height == 200)
            // The logo (150x63 at half the width) sits in the bottom-right corner; the top-left is untouched.
            #expect(try after.pixel(x: 10, y: 10) == before.pixel(x: 10, y: 10))
            var changed = 0
            for x in stride(from: 150, to: 300, by: 5) where try after.pixel(x: x, y: 170) != before.pixel(x: x, y: 170) { changed += 1 }
            #expect(changed > 3)
        }
    }

    @Test func anotherTenantsUploadIsNotFound() async throws {
        try await Harness.run { h in
            let theirs = try await uploadLogo(h, key: "key-b")
            let job = try await h.runJob(on: "gradient.webp", [["op": "watermark", "image": .string(theirs)]])
            #expect(job["status"] == "failed")
            #expect(job["error"]?["code"] == "asset_not_found", "\(job)")
        }
    }
}
