import Foundation
@testable import ImageStages
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// The thumbnail stage decodes JPEGs at the largest shrink-on-load that still
/// covers the box; what it produces must match libvips' own vips_thumbnail
/// (which keeps a factor of two for its resize) in size, and closely in pixels.
@Suite(.ownThreads) struct JPEGShrinkOnLoadTests {
    @Test func theShrinkIsTheLargestThatStillCoversTheBox() {
        #expect(Thumbnail.jpegShrink(width: 3840, height: 2160, covering: 400, 225) == 8)
        #expect(Thumbnail.jpegShrink(width: 3840, height: 2160, covering: 481, 271) == 4)
        // libjpeg rounds a scaled side up: 3001 / 8 decodes as 376.
        #expect(Thumbnail.jpegShrink(width: 3001, height: 2001, covering: 376, 251) == 8)
        #expect(Thumbnail.jpegShrink(width: 640, height: 480, covering: 400, 300) == nil)
    }

    @Test(arguments: [(2999, 2001, 333, "inside"), (2048, 1365, 200, "cover"), (1537, 2049, 190, "inside")])
    func matchesVipsThumbnail(_ width: Int, _ height: Int, _ box: Int, _ fit: String) async throws {
        let source = NSTemporaryDirectory() + "shrink-\(UUID().uuidString).jpg"
        defer { try? FileManager.default.removeItem(atPath: source) }
        // A natural photo at an awkward size, so the shrink's rounding shows.
        try runVipsTool(["resize", Fixture.path("astronaut.jpg"), source + "[Q=92]", "\(Double(width) / 512)",
                         "--vscale", "\(Double(height) / 512)"])
        let thumbnailFit = ThumbnailFit(rawValue: fit)!
        let reference = try VipsImage.thumbnail(path: source, width: box, height: box, fit: thumbnailFit).materialized()
        let produced = try VipsImage.open(path: try await runOperations(
            source, [["op": "thumbnail", "width": .number(Double(box)), "height": .number(Double(box)), "fit": .string(fit)],
                     ["op": "encode", "format": "png"]])).materialized()
        #expect(produced.width == reference.width && produced.height == reference.height,
                "\(produced.width)x\(produced.height) against \(reference.width)x\(reference.height)")
        var total = 0.0, samples = 0
        for y in stride(from: 2, to: min(produced.height, reference.height) - 2, by: 9) {
            for x in stride(from: 2, to: min(produced.width, reference.width) - 2, by: 9) {
                let a = try produced.pixel(x: x, y: y), b = try reference.pixel(x: x, y: y)
                total += zip(a, b).map { abs($0 - $1) }.reduce(0, +) / Double(a.count)
                samples += 1
            }
        }
        #expect(samples > 100)
        #expect(total / Double(samples) < 4, "mean difference \(total / Double(samples)) of 255")

        // TurboJPEG's decode and libvips' own give the same pixels, at sizes the shrink does not divide too.
        var viaLibvips = ProcessingLimits()
        viaLibvips.turboJPEG = false
        let decodes = VipsImage.turboJPEGDecodes
        let turbo = try VipsImage.open(path: try await runOperations(source, [["op": "thumbnail", "width": .number(Double(box))], ["op": "encode", "format": "png"]]))
        #expect(VipsImage.turboJPEGDecodes > decodes)
        let libvips = try VipsImage.open(path: try await runOperations(source, [["op": "thumbnail", "width": .number(Double(box))], ["op": "encode", "format": "png"]],
                                                                      limits: viaLibvips))
        #expect(turbo.width == libvips.width && turbo.height == libvips.height)
        #expect(try turbo.rgbBytes() == libvips.rgbBytes(), "\(width)x\(height) at \(box)")
    }

    /// `resize` to half or less decodes a JPEG through TurboJPEG at the largest shrink that still
    /// covers its size, as `thumbnail` does (and as thumbor's and imgproxy's draft decodes do), and
    /// gives what libvips' resize of the whole decoded picture gives, within the same margin as
    /// `matchesVipsThumbnail`; TurboJPEG's decode and libvips' own give the very same pixels.
    @Test(arguments: [("inside", 333, 333), ("cover", 300, 300), ("contain", 300, 200), ("outside", 250, 250), ("fill", 300, 300)])
    func aResizeToHalfOrLessDecodesThroughTurboJPEG(_ fit: String, _ width: Int, _ height: Int) async throws {
        let source = NSTemporaryDirectory() + "shrink-\(UUID().uuidString).jpg"
        defer { try? FileManager.default.removeItem(atPath: source) }
        try runVipsTool(["resize", Fixture.path("astronaut.jpg"), source + "[Q=92]", "\(2999.0 / 512)", "--vscale", "\(2001.0 / 512)"])
        let operations: JSONValue = [["op": "resize", "width": .number(Double(width)), "height": .number(Double(height)), "fit": .string(fit)],
                                     ["op": "encode", "format": "png"]]
        let decodes = VipsImage.turboJPEGDecodes
        let produced = try VipsImage.open(path: try await runOperations(source, operations)).materialized()
        if fit != "fill" { #expect(VipsImage.turboJPEGDecodes > decodes, "TurboJPEG decoded the file") }
        // The same step on a decoded image (not the file) resizes the whole picture with libvips.
        let reference = try VipsImage.open(path: try await runOperations(
            source, .array([["op": "rotate", "angle": 0]] + (operations.arrayValue ?? [])))).materialized()
        #expect(produced.width == reference.width && produced.height == reference.height,
                "\(produced.width)x\(produced.height) against \(reference.width)x\(reference.height)")
        let a = try produced.rgbBytes(), b = try reference.rgbBytes()
        let difference = zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(max(1, a.count))
        #expect(difference < 4, "\(fit): mean difference \(difference) per byte from libvips' resize of the whole picture")
        var viaLibvips = ProcessingLimits()
        viaLibvips.turboJPEG = false
        let libvips = try VipsImage.open(path: try await runOperations(source, operations, limits: viaLibvips))
        #expect(try produced.rgbBytes() == libvips.rgbBytes(), "\(fit): TurboJPEG's decode and libvips' give the same pixels")
    }
}
