import KilnTestSupport
import Testing
@testable import VipsBindings

@Suite(.ownThreads) struct VipsImageTests {
    @Test func headerIsReadWithoutDecoding() throws {
        let image = try VipsImage.open(path: Fixture.path("photo-exif6.jpg"))
        #expect(image.width == 320)
        #expect(image.height == 240)
        #expect(image.orientation == 6)
        #expect(image.loader == "jpegload")
    }

    @Test func thumbnailAppliesExifOrientation() throws {
        let thumb = try VipsImage.thumbnail(path: Fixture.path("photo-exif6.jpg"), width: 120, height: 10_000_000, fit: .inside)
        // Displayed 240x320 (portrait), so a 120-wide box gives 120x160.
        #expect(thumb.width == 120)
        #expect(thumb.height == 160)
        // Stored left half was red: after the 90° turn it is on top.
        let top = try thumb.pixel(x: 60, y: 10)
        let bottom = try thumb.pixel(x: 60, y: 150)
        #expect(top[0] > 180 && top[2] < 80, "top should be red, was \(top)")
        #expect(bottom[2] > 180 && bottom[0] < 80, "bottom should be blue, was \(bottom)")
    }

    @Test func coverFillsTheBoxExactly() throws {
        let thumb = try VipsImage.thumbnail(path: Fixture.path("gradient.webp"), width: 64, height: 64, fit: .cover)
        #expect(thumb.width == 64 && thumb.height == 64)
    }

    @Test func insideNeverEnlarges() throws {
        let thumb = try VipsImage.thumbnail(path: Fixture.path("alpha.png"), width: 1000, height: 1000, fit: .inside)
        #expect(thumb.width == 200 && thumb.height == 100)
        #expect(thumb.hasAlpha)
    }

    @Test func savedFilesDecodeToTheSameSize() throws {
        let thumb = try VipsImage.thumbnail(path: Fixture.path("gradient.webp"), width: 150, height: 150, fit: .inside).materialized()
        let directory = NSTemporaryDirectory()
        for (encoding, loader) in [(ImageEncoding.jpeg(quality: 80, strip: true), "jpegload"),
                                   (.png(compression: 6, strip: true), "pngload"),
                                   (.webp(quality: 80, lossless: false, strip: true), "webpload")] {
            let path = directory + "/kiln-vips-\(loader)-\(UUID().uuidString)"
            try thumb.save(to: path + ".img", as: encoding)
            let reread = try VipsImage.open(path: path + ".img")
            #expect(reread.loader == loader)
            #expect(reread.width == 150 && reread.height == 100)
            try? FileManager.default.removeItem(atPath: path + ".img")
        }
    }

    @Test func truncatedJPEGFailsWhenPixelsAreRead() throws {
        // The header is intact, so opening works; decoding the scan must fail, not fill grey.
        let image = try VipsImage.open(path: Fixture.path("truncated.jpg"))
        #expect(image.width == 640)
        let thumb = try VipsImage.thumbnail(path: Fixture.path("truncated.jpg"), width: 100, height: 100, fit: .inside)
        #expect(throws: VipsError.self) {
            try thumb.save(to: NSTemporaryDirectory() + "/kiln-truncated-\(UUID().uuidString).jpg", as: .jpeg(quality: 80, strip: true))
        }
    }

    @Test func unknownBytesAreRefused() {
        #expect(throws: VipsError.self) { try VipsImage.open(path: Fixture.path("random.bin")) }
    }

    @Test func solidImagesHaveTheirValue() throws {
        let image = try VipsImage.solid(width: 8, height: 4, bands: 3, value: 200)
        #expect(image.width == 8 && image.bands == 3)
        #expect(try image.average() == 200)
    }
}

import Foundation

@Suite(.ownThreads) struct EvaluationWatchTests {
    /// A 6000x6000 image computed from scratch takes long enough for libvips to report progress.
    func bigImage() throws -> VipsImage { try VipsImage.solid(width: 6000, height: 6000, bands: 3, value: 90) }

    @Test func aStopRequestKillsTheEvaluation() throws {
        let path = NSTemporaryDirectory() + "kiln-killed-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let watch = EvaluationWatch(shouldStop: { true })
        let error = #expect(throws: VipsError.self) {
            try self.bigImage().save(to: path, as: .png(compression: 9, strip: true), watch: watch)
        }
        #expect(error?.message == "stopped")
    }

    @Test func progressIsReportedAndTheSaveCompletes() throws {
        let path = NSTemporaryDirectory() + "kiln-watched-\(UUID().uuidString).jpg"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let seen = Percentages()
        try bigImage().save(to: path, as: .jpeg(quality: 70, strip: true), watch: EvaluationWatch(progress: { seen.add($0) }, shouldStop: { false }))
        #expect(try VipsImage.open(path: path).width == 6000)
        #expect(seen.maximum > 0, "no progress reported")
    }
}

import Synchronization

final class Percentages: Sendable {
    private let values = Mutex<[Int]>([])
    func add(_ value: Int) { values.withLock { $0.append(value) } }
    var maximum: Int { values.withLock { $0.max() ?? 0 } }
}
