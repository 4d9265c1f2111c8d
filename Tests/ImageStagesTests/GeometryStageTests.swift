import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// resize, crop, rotate, flip and flop through the real registry and runner;
/// every output is decoded and measured.
@Suite(.ownThreads) struct GeometryStageTests {
    /// Decoded whole (opening is lazy and sequential: pixels read out of order need a copy in memory).
    func decoded(_ path: String) throws -> VipsImage { try VipsImage.open(path: path).materialized() }

    /// photo-exif6.jpg is stored 320x240 (red left, blue right) with EXIF
    /// orientation 6: it displays 240x320 with red on top.
    @Test(arguments: [
        ("encode alone", [["op": "encode", "format": "png"]], 240, 320),
        ("resize", [["op": "resize", "width": 120], ["op": "encode", "format": "png"]], 120, 160),
        ("thumbnail", [["op": "thumbnail", "width": 120], ["op": "encode", "format": "png"]], 120, 160),
        ("crop", [["op": "crop", "width": 240, "height": 100, "gravity": "north"], ["op": "encode", "format": "png"]], 240, 100),
    ] as [(String, JSONValue, Int, Int)])
    func exifOrientationIsAppliedOnEveryPath(_ name: String, _ operations: JSONValue, _ width: Int, _ height: Int) async throws {
        let image = try decoded(try await runOperations("photo-exif6.jpg", operations))
        #expect(image.width == width && image.height == height, "\(name): \(image.width)x\(image.height)")
        #expect(image.orientation == 1)
        let top = try image.pixel(x: width / 2, y: 3), bottom = try image.pixel(x: width / 2, y: height - 4)
        #expect(top[0] > 180 && top[2] < 80, "\(name): top should be red, was \(top)")
        if height > 200 { #expect(bottom[2] > 180 && bottom[0] < 80, "\(name): bottom should be blue, was \(bottom)") }
    }

    @Test func autoRotateFalseKeepsTheStoredPixels() async throws {
        let image = try decoded(try await runOperations("photo-exif6.jpg", [["op": "encode", "format": "png", "autoRotate": false]]))
        #expect(image.width == 320 && image.height == 240)
        let left = try image.pixel(x: 10, y: 120)
        #expect(left[0] > 180 && left[2] < 80, "stored left half is red, was \(left)")
    }

    /// gradient.webp is 300x200.
    @Test(arguments: [
        ("cover", 100, 100, false, 100, 100),
        ("contain", 100, 100, false, 100, 100),
        ("fill", 100, 50, false, 100, 50),
        ("inside", 100, 100, false, 100, 67),
        ("outside", 100, 100, false, 150, 100),
        ("inside", 1000, 1000, false, 300, 200),
        ("inside", 600, 600, true, 600, 400),
        ("cover", 400, 400, false, 300, 200),
    ])
    func resizeFits(_ fit: String, _ width: Int, _ height: Int, _ enlarge: Bool, _ expectedWidth: Int, _ expectedHeight: Int) async throws {
        let image = try decoded(try await runOperations("gradient.webp", [
            ["op": "resize", "width": .number(Double(width)), "height": .number(Double(height)), "fit": .string(fit), "enlarge": .bool(enlarge)],
            ["op": "encode", "format": "png"],
        ]))
        #expect(image.width == expectedWidth && image.height == expectedHeight, "\(fit) \(width)x\(height): \(image.width)x\(image.height)")
    }

    @Test func containPadsWithTheBackground() async throws {
        let image = try decoded(try await runOperations("gradient.webp", [
            ["op": "resize", "width": 100, "height": 100, "fit": "contain", "background": "#ff00ff"], ["op": "encode", "format": "png"],
        ]))
        // 300x200 scales to 100x67: 16 or 17 rows of padding above and below.
        let pad = try image.pixel(x: 50, y: 3)
        #expect(pad.map { $0.rounded() } == [255, 0, 255], "padding was \(pad)")
        let inside = try image.pixel(x: 50, y: 50)
        #expect(inside != pad)
    }

    @Test func transparentPaddingAddsAlpha() async throws {
        let image = try decoded(try await runOperations("gradient.webp", [
            ["op": "resize", "width": 100, "height": 100, "fit": "contain", "background": "transparent"], ["op": "encode", "format": "png"],
        ]))
        #expect(image.hasAlpha)
        #expect(try image.pixel(x: 50, y: 2)[3] == 0)
        #expect(try image.pixel(x: 50, y: 50)[3] == 255)
    }

    @Test func rectangleCropKeepsExactlyThatRegion() async throws {
        let source = try decoded(Fixture.path("gradient.webp"))
        let image = try decoded(try await runOperations("gradient.webp", [
            ["op": "crop", "x": 37, "y": 21, "width": 50, "height": 40], ["op": "encode", "format": "png"],
        ]))
        #expect(image.width == 50 && image.height == 40)
        for (x, y) in [(0, 0), (49, 0), (0, 39), (49, 39), (25, 20)] {
            #expect(try image.pixel(x: x, y: y) == source.pixel(x: 37 + x, y: 21 + y), "pixel (\(x), \(y))")
        }
    }

    @Test func cropOutsideTheImageFailsClearly() async throws {
        let failure = await stageFailure("gradient.webp", [["op": "crop", "x": 280, "y": 0, "width": 50, "height": 50]])
        #expect(failure?.code == "crop_outside_image")
    }

    @Test func gravityCropTakesTheNamedEdge() async throws {
        let source = try decoded(Fixture.path("gradient.webp"))
        let east = try decoded(try await runOperations("gradient.webp", [
            ["op": "crop", "width": 60, "height": 200, "gravity": "east"], ["op": "encode", "format": "png"],
        ]))
        #expect(east.width == 60 && east.height == 200)
        #expect(try east.pixel(x: 59, y: 100) == source.pixel(x: 299, y: 100))
        let smart = try decoded(try await runOperations("gradient.webp", [
            ["op": "crop", "width": 80, "height": 80, "gravity": "attention"], ["op": "encode", "format": "png"],
        ]))
        #expect(smart.width == 80 && smart.height == 80)
    }

    @Test func quarterTurnsAndMirrorsMovePixels() async throws {
        // Upright: red on top, blue below (240x320).
        let turned = try decoded(try await runOperations("photo-exif6.jpg", [["op": "rotate", "angle": 90], ["op": "encode", "format": "png"]]))
        #expect(turned.width == 320 && turned.height == 240)
        #expect(try turned.pixel(x: 310, y: 120)[0] > 180, "after a clockwise quarter turn red is on the right")
        let flipped = try decoded(try await runOperations("photo-exif6.jpg", [["op": "flip"], ["op": "encode", "format": "png"]]))
        #expect(try flipped.pixel(x: 120, y: 310)[0] > 180, "flip puts red at the bottom")
        let flopped = try decoded(try await runOperations("gradient.webp", [["op": "flop"], ["op": "encode", "format": "png"]]))
        let source = try decoded(Fixture.path("gradient.webp"))
        #expect(try flopped.pixel(x: 0, y: 100) == source.pixel(x: 299, y: 100))
    }

    @Test func freeAngleRotationGrowsTheCanvas() async throws {
        let image = try decoded(try await runOperations("gradient.webp", [
            ["op": "rotate", "angle": 45, "background": "#00ff00"], ["op": "encode", "format": "png"],
        ]))
        // 300x200 at 45 degrees needs about 354x354.
        #expect(abs(image.width - 354) <= 2 && abs(image.height - 354) <= 2, "\(image.width)x\(image.height)")
        let corner = try image.pixel(x: 1, y: 1)
        #expect(corner[1] > 250 && corner[0] < 5, "uncovered corner is the background, was \(corner)")
    }

    @Test func anOutputBombIsRefusedBeforeAnyPixel() async throws {
        // 1x30000 asked to be 333 wide would be 333 x 9,990,000.
        let tall = NSTemporaryDirectory() + "tall-\(UUID().uuidString).png"
        try VipsImage.solid(width: 1, height: 30000, bands: 3, value: 128).save(to: tall, as: .png(compression: 6, strip: true))
        for operations: JSONValue in [
            [["op": "thumbnail", "width": 333, "fit": "contain"]],
            [["op": "resize", "width": 333, "enlarge": true]],
        ] {
            let failure = await stageFailure(tall, operations)
            #expect(failure?.code == "output_too_large", "\(operations): \(String(describing: failure))")
        }
    }
}
