import Foundation
import HTTPTypes
import HummingbirdTesting
import KilnTestSupport
import NIOCore
import PipelineEngine
import Testing
import VipsBindings

/// Hostile images over the real API: refused at upload where the bytes say so,
/// else failed with an error code, and the worker keeps serving.
@Suite(.ownThreads) struct HostileImageJobTests {
    func upload(_ h: Harness, path: String) async throws -> TestResponse {
        try await h.request(.post, "/v1/uploads", headers: [.contentType: "image/png"],
                            body: ByteBuffer(data: try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func job(_ h: Harness, path: String, _ operations: JSONValue) async throws -> JSONValue {
        let media = try #require(try h.json(try await upload(h, path: path))["id"])
        let submitted = try await h.submit(["input": media, "operations": operations])
        return try await h.waitForJob(try #require(try h.json(submitted)["id"]?.stringValue))
    }

    @Test func hostileImagesFailAndTheWorkerGoesOn() async throws {
        try await Harness.run { h in
            let svg = try await upload(h, path: try HostileFiles.svgWithExternalReferences())
            #expect(svg.status == .unsupportedMediaType)
            #expect(try h.json(svg)["error"]?["code"] == "unsupported_media")

            let bomb = try await job(h, path: try HostileFiles.pngBomb(), [["op": "thumbnail", "width": 64]])
            #expect(bomb["status"] == "failed" && bomb["error"]?["code"] == "input_too_large", "\(bomb)")

            let tall = NSTemporaryDirectory() + "tall-\(UUID().uuidString).png"
            try VipsImage.solid(width: 1, height: 30000, bands: 3, value: 9).save(to: tall, as: .png(compression: 6, strip: true))
            let outputBomb = try await job(h, path: tall, [["op": "thumbnail", "width": 333, "fit": "contain"]])
            #expect(outputBomb["status"] == "failed" && outputBomb["error"]?["code"] == "output_too_large", "\(outputBomb)")
            #expect(outputBomb["attempt"] == 1)

            let fine = try await h.runJob(on: "gradient.webp", [["op": "thumbnail", "width": 40]])
            #expect(fine["status"] == "succeeded")
        }
    }
}
