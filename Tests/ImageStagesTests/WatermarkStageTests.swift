import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

@Suite(.ownThreads) struct WatermarkStageTests {
    /// A flat grey 400x300 PNG.
    func base() throws -> String {
        let path = NSTemporaryDirectory() + "base-\(UUID().uuidString).png"
        try VipsImage.solid(width: 400, height: 300, bands: 3, value: 128).save(to: path, as: .png(compression: 1, strip: true))
        return path
    }

    func marked(_ parameters: [String: JSONValue]) async throws -> VipsImage {
        var step = parameters
        step["op"] = "watermark"
        let path = try await runOperations(try base(), [.object(step), ["op": "encode", "format": "png"]])
        return try VipsImage.open(path: path).materialized()
    }

    /// Every sampled pixel outside `rectangle` is still the base's grey; some inside is not.
    func expectOnlyInside(_ image: VipsImage, x: ClosedRange<Int>, y: ClosedRange<Int>) throws {
        #expect(image.width == 400 && image.height == 300 && image.bands == 3)
        var changedInside = 0
        for py in stride(from: 0, to: 300, by: 3) {
            for px in stride(from: 0, to: 400, by: 3) {
                let pixel = try image.pixel(x: px, y: py)
                if x.contains(px) && y.contains(py) {
                    if pixel != [128, 128, 128] { changedInside += 1 }
                } else {
                    #expect(pixel == [128, 128, 128], "(\(px), \(py)) outside the mark changed to \(pixel)")
                    if pixel != [128, 128, 128] { return }
                }
            }
        }
        #expect(changedInside > 20)
    }

    @Test func imageMarkChangesItsCornerOnly() async throws {
        // 0.25 of 400 = 100 wide; the 170x71 logo scales to 100x42, 10 px in from the bottom right.
        let image = try await marked(["image": "assets/kiln-logo.png", "gravity": "southeast", "margin": 10, "scale": 0.25, "opacity": 1])
        try expectOnlyInside(image, x: 290...389, y: 248...289)
    }

    @Test func textMarkChangesItsCornerOnly() async throws {
        let image = try await marked(["text": "© Kiln", "gravity": "northwest", "margin": 8, "fontSize": 20, "colour": "#ffffff"])
        try expectOnlyInside(image, x: 8...120, y: 8...40)
    }

    @Test func opacityBlendsTheMarkWithTheBase() async throws {
        let opaque = try await marked(["image": "assets/kiln-logo.png", "scale": 0.5, "opacity": 1, "gravity": "centre", "margin": 0])
        let half = try await marked(["image": "assets/kiln-logo.png", "scale": 0.5, "opacity": 0.5, "gravity": "centre", "margin": 0])
        // Find a pixel the opaque mark covers fully (the logo's orange), then check the half-faded one.
        var checked = false
        for x in 110..<290 where !checked {
            let full = try opaque.pixel(x: x, y: 150)
            if abs(full[0] - 233) < 4 && abs(full[1] - 98) < 4 {
                let blended = try half.pixel(x: x, y: 150)
                for band in 0..<3 { #expect(abs(blended[band] - (full[band] + 128) / 2) <= 3, "\(blended) vs \(full)") }
                checked = true
            }
        }
        #expect(checked, "no fully covered pixel found on the middle row")
    }

    @Test func tilingCoversTheWholeImage() async throws {
        let image = try await marked(["text": "kiln", "tile": true, "fontSize": 24, "margin": 40, "colour": "#000000"])
        for (qx, qy) in [(0, 0), (200, 0), (0, 150), (200, 150)] {
            var changed = false
            for py in stride(from: qy, to: qy + 150, by: 2) where !changed {
                for px in stride(from: qx, to: qx + 200, by: 2) where try image.pixel(x: px, y: py) != [128, 128, 128] { changed = true }
            }
            #expect(changed, "quarter at (\(qx), \(qy)) has no mark")
        }
    }

    @Test func aMissingAssetFailsClearly() async throws {
        let failure = await stageFailure(try base(), [["op": "watermark", "image": "assets/nope.png"]])
        #expect(failure?.code == "asset_not_found")
    }

    /// A huge font with a margin wider than half the image once turned wrapping off and let
    /// cairo draw a mask as big as it would: bounded now, before anything is drawn.
    @Test func aHugeTextMarkFailsWithOutputTooLarge() async throws {
        let failure = await stageFailure(try base(), [["op": "watermark", "text": .string(String(repeating: "W", count: 500)),
                                                        "fontSize": 2000, "margin": 10000]])
        #expect(failure?.code == "output_too_large", "\(String(describing: failure))")
        // A large mark within the bounds still draws, wrapped inside the image.
        let big = try await marked(["text": "Kiln", "fontSize": 150, "margin": 300, "gravity": "centre"])
        #expect(big.width == 400 && big.height == 300)
    }

    @Test func markupInTextIsNotObeyed() async throws {
        // Pango would read this as markup; the mark shows it literally instead of failing or hiding it.
        let image = try await marked(["text": "<b>a & b</b>", "gravity": "northwest", "margin": 0, "fontSize": 20])
        #expect(image.width == 400)
    }
}
