import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// `encode` with `maxBytes`, on a 12 MP phone photo: the file fits, decodes, and is the best that fits.
@Suite(.ownThreads) struct ByteBudgetTests {
    static let photo = "corpus/jpeg-12mp-o6.jpg"

    func fitted(_ encode: [String: JSONValue]) async throws -> (image: VipsImage, bytes: Int, results: [String: JSONValue]) {
        var step = encode
        step["op"] = "encode"
        let outputs = try await runLocally(Self.photo, ["operations": [.object(step)]])
        let output = try #require(outputs["default"])
        let file = try #require(output.files.first)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file.path)).count
        #expect(bytes == file.1.size, "the size reported is the file's")
        return (try VipsImage.open(path: file.path).materialized(), bytes, output.results)
    }

    /// Quality alone meets a budget the asked quality misses, and one step more of quality would not fit.
    @Test func qualityIsLoweredToTheHighestThatFits() async throws {
        let budget = 900_000
        let full = try await fitted(["format": "jpeg", "quality": 90])
        #expect(full.bytes > budget, "the budget must bite: \(full.bytes) bytes at quality 90")
        let (image, bytes, results) = try await fitted(["format": "jpeg", "quality": 90, "maxBytes": .number(Double(budget))])
        #expect(bytes <= budget)
        #expect(image.width == full.image.width && image.height == full.image.height, "no pixels were removed")
        #expect(results["scale"] == 1 && results["bytes"] == .number(Double(bytes)))
        let quality = try #require(results["quality"]?.doubleValue.map { Int($0) })
        #expect(quality >= 30 && quality < 90, "quality \(quality)")
        let above = try await fitted(["format": "jpeg", "quality": .number(Double(quality + 1))])
        #expect(above.bytes > budget, "quality \(quality + 1) gives \(above.bytes) bytes, within the budget: \(quality) was not the best")
        #expect(try image.pixel(x: image.width / 2, y: image.height / 2).count == 3)
    }

    /// A budget no quality meets costs pixels, and the file still fits and decodes at the size reported.
    @Test func sizeGoesWhenQualityIsNotEnough() async throws {
        let budget = 25_000
        let (image, bytes, results) = try await fitted(["format": "webp", "maxBytes": .number(Double(budget))])
        #expect(bytes <= budget)
        let scale = try #require(results["scale"]?.doubleValue)
        #expect(scale < 1, "\(results)")
        #expect(image.width < 4000 && image.width >= 16 && image.loader == "webpload")
        #expect(results["quality"]?.doubleValue ?? 0 >= 30)
        // Upright: the source's orientation 6 was applied, so the portrait stays portrait.
        #expect(image.height > image.width, "\(image.width)×\(image.height)")
    }

    @Test func anUnreachableBudgetFailsWithItsCode() async throws {
        let error = await stageFailure(Self.photo, [["op": "encode", "format": "jpeg", "maxBytes": 100]])
        #expect(error?.code == "budget_unreachable", "\(String(describing: error))")
    }

    @Test func aBudgetNeedsALossyFormat() async throws {
        let png = await stageFailure("gradient.webp", [["op": "encode", "format": "png", "maxBytes": 5000]])
        #expect(png?.message.contains("/operations/0/maxBytes") == true, "\(String(describing: png))")
        let lossless = await stageFailure("gradient.webp", [["op": "encode", "format": "webp", "lossless": true, "maxBytes": 5000]])
        #expect(lossless?.message.contains("/operations/0/maxBytes") == true, "\(String(describing: lossless))")
    }
}
