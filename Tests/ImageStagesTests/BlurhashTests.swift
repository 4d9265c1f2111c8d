import Foundation
@testable import ImageStages
import KilnTestSupport
import PipelineEngine
import Testing

@Suite(.ownThreads) struct BlurhashTests {
    /// Kiln's encoder and the reference agree character for character on the
    /// very pixels Kiln samples, and the stage reports that string.
    @Test(arguments: [("photo-exif6.jpg", 4, 3), ("gradient.webp", 4, 3), ("alpha.png", 4, 3),
                      ("gradient.webp", 1, 1), ("photo-exif6.jpg", 9, 9), ("gradient.webp", 5, 2)])
    func matchesTheReferenceOnTheSamePixels(_ fixture: String, _ componentsX: Int, _ componentsY: Int) async throws {
        let source = StageValue.source(SourceFile(path: Fixture.path(fixture), kind: .image, contentType: "image/x"))
        let sample = try Blurhash.sample(source, limits: .init(), autoRotate: true)
        #expect(max(sample.width, sample.height) == Blurhash.sampleSide)
        let ours = BlurhashEncoder.encode(pixels: sample.pixels, width: sample.width, height: sample.height,
                                          componentsX: componentsX, componentsY: componentsY)
        let request: [String: Any] = ["width": sample.width, "height": sample.height, "pixels": sample.pixels.map(Int.init),
                                      "componentsX": componentsX, "componentsY": componentsY]
        let reference = try runOracle("blurhash_oracle.py", input: try JSONSerialization.data(withJSONObject: request))
        #expect(ours == reference)
        #expect(ours.count == 4 + 2 * componentsX * componentsY)

        let outputs = try await runLocally(fixture, ["operations": [["op": "blurhash", "componentsX": .number(Double(componentsX)),
                                                                     "componentsY": .number(Double(componentsY))]]])
        #expect(outputs["default"]?.results["blurhash"] == .string(ours))
        #expect(outputs["default"]?.files.isEmpty == true)
    }

    @Test func followsTheProcessedImage() async throws {
        // Grayscale first: the placeholder of the filtered picture, not of the input.
        let plain = try await runLocally("photo-exif6.jpg", ["operations": [["op": "blurhash"]]])
        let grey = try await runLocally("photo-exif6.jpg", ["operations": [["op": "filter", "grayscale": true], ["op": "blurhash"]]])
        #expect(plain["default"]?.results["blurhash"] != grey["default"]?.results["blurhash"])
    }
}

@Suite(.ownThreads) struct MetadataStageTests {
    @Test func describesTheInputFromItsHeaders() async throws {
        let outputs = try await runLocally("photo-exif6.jpg", ["operations": [["op": "metadata"]]])
        let metadata = try #require(outputs["default"]?.results["metadata"])
        #expect(metadata["width"] == 240 && metadata["height"] == 320, "as displayed: \(metadata)")
        #expect(metadata["orientation"] == 6)
        #expect(metadata["format"] == "jpeg")
        #expect(metadata["hasAlpha"] == false)
        #expect(metadata["space"] == "srgb")
        let png = try await runLocally("alpha.png", ["operations": [["op": "metadata"]]])
        #expect(png["default"]?.results["metadata"]?["hasAlpha"] == true)
        #expect(png["default"]?.results["metadata"]?["format"] == "png")
    }

    @Test func namesTheICCProfile() async throws {
        let p3 = NSTemporaryDirectory() + "p3-\(UUID().uuidString).jpg"
        try runVipsTool(["icc_transform", Fixture.path("gradient.webp"), p3, "p3"])
        let outputs = try await runLocally(p3, ["operations": [["op": "metadata"]]])
        let name = try #require(outputs["default"]?.results["metadata"]?["iccProfile"]?.stringValue)
        #expect(name.contains("P3"), "\(name)")
    }
}
