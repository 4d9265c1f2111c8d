import Foundation
@testable import ImageStages
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

@Suite(.ownThreads) struct FilterStageTests {
    func decoded(_ path: String) throws -> VipsImage { try VipsImage.open(path: path).materialized() }

    /// A flat 64x64 sRGB PNG of one grey level, written for the test.
    func greyFile(_ level: Double) throws -> String {
        let path = NSTemporaryDirectory() + "grey-\(UUID().uuidString).png"
        try VipsImage.solid(width: 64, height: 64, bands: 3, value: level).save(to: path, as: .png(compression: 1, strip: true))
        return path
    }

    func filtered(_ input: String, _ parameters: [String: JSONValue]) async throws -> VipsImage {
        var filter = parameters
        filter["op"] = "filter"
        return try decoded(try await runOperations(input, [.object(filter), ["op": "encode", "format": "png"]]))
    }

    @Test func grayscaleMakesEveryChannelEqual() async throws {
        let image = try await filtered("gradient.webp", ["grayscale": true])
        #expect(image.width == 300 && image.height == 200)
        for x in stride(from: 0, to: 300, by: 37) {
            let p = try image.pixel(x: x, y: 100)
            #expect(p[0] == p[1] && p[1] == p[2], "pixel at x=\(x) is \(p)")
        }
    }

    @Test func primitivesMoveFlatGreyWhereTheirFormulasSay() async throws {
        let grey = try greyFile(100)
        #expect(try await filtered(grey, ["brightness": 1.5]).pixel(x: 5, y: 5) == [150, 150, 150])
        #expect(try await filtered(grey, ["invert": true]).pixel(x: 5, y: 5) == [155, 155, 155])
        // Contrast 2 around 127.5: 100 -> 72.5, rounded either way.
        let contrasted = try await filtered(grey, ["contrast": 2]).pixel(x: 5, y: 5)
        #expect(contrasted.allSatisfy { abs($0 - 72.5) <= 0.5 }, "\(contrasted)")
        let sepia = try await filtered(grey, ["sepia": 1]).pixel(x: 5, y: 5)
        #expect(sepia[0] > sepia[1] && sepia[1] > sepia[2], "sepia warms grey: \(sepia)")
        let tinted = try await filtered(grey, ["tint": "#ff0000", "tintStrength": 1]).pixel(x: 5, y: 5)
        #expect(tinted == [100, 0, 0])
    }

    @Test func hueAndSaturationMoveColour() async throws {
        let source = try decoded(try await runOperations("photo-exif6.jpg", [["op": "encode", "format": "png"]]))
        let red = try source.pixel(x: 120, y: 40)
        let desaturated = try await filtered("photo-exif6.jpg", ["saturation": 0]).pixel(x: 120, y: 40)
        #expect(abs(desaturated[0] - desaturated[2]) < 3, "saturation 0 is grey: \(desaturated)")
        let turned = try await filtered("photo-exif6.jpg", ["hue": 120]).pixel(x: 120, y: 40)
        #expect(turned[1] > turned[0] && red[0] > red[1], "a third of a turn takes red towards green: \(red) -> \(turned)")
    }

    @Test func blurSoftensAnEdgeAndSharpenKeepsTheSize() async throws {
        // The upright fixture has a hard red/blue edge at y = 160.
        let blurred = try await filtered("photo-exif6.jpg", ["blur": 8])
        let atEdge = try blurred.pixel(x: 120, y: 158)
        #expect(atEdge[2] > 60 && atEdge[0] > 60, "blur mixes red and blue at the edge: \(atEdge)")
        let sharpened = try await filtered("photo-exif6.jpg", ["sharpen": 1.5])
        #expect(sharpened.width == 240 && sharpened.height == 320 && sharpened.bands == 3)
    }

    @Test(arguments: ["1977", "aden", "brannan", "brooklyn", "clarendon", "earlybird", "gingham", "hudson", "inkwell", "juno", "lark",
                      "lofi", "mayfair", "moon", "nashville", "reyes", "rise", "slumber", "toaster", "valencia", "walden", "willow", "xpro2"])
    func everyLookChangesThePictureAndNothingElse(_ look: String) async throws {
        let source = try decoded(try await runOperations("gradient.webp", [["op": "encode", "format": "png"]]))
        let image = try await filtered("gradient.webp", ["look": .string(look)])
        #expect(image.width == source.width && image.height == source.height && image.bands == 3)
        var changed = 0
        for x in stride(from: 5, to: 300, by: 29) where try image.pixel(x: x, y: 100) != source.pixel(x: x, y: 100) { changed += 1 }
        #expect(changed > 5, "\(look) changed \(changed) of 11 sampled pixels")
    }

    @Test func alphaSurvivesColourWork() async throws {
        let image = try await filtered("alpha.png", ["look": "moon"])
        #expect(image.hasAlpha && image.bands == 4)
        #expect(try image.pixel(x: 10, y: 50)[3] == 0)
        #expect(try image.pixel(x: 150, y: 50)[3] == 255)
    }
}

@Suite(.ownThreads) struct ColourMatrixTests {
    @Test func composingEqualsApplyingInTurn() {
        let steps: [ColourMatrix] = [.sepia(0.4), .hue(33), .contrast(1.3), .brightness(0.8), .saturation(1.7), .invert(0.2)]
        let composed = steps.reduce(ColourMatrix.identity) { $0.then($1) }
        let rgb: [Double] = [200, 90, 30]
        let stepwise = steps.reduce(rgb) { $1.apply($0) }
        let once = composed.apply(rgb)
        for band in 0..<3 { #expect(abs(stepwise[band] - once[band]) < 1e-9) }
    }
}
