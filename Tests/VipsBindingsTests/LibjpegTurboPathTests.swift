import CResample
import Foundation
import KilnTestSupport
import Testing
import VipsBindings

/// The two pieces of the JPEG thumbnail path that replace libvips' own: the
/// fixed-point Lanczos-3 after a shrink-on-load, and the JPEG writer for small
/// images. Each is held to what libvips makes of the same pixels, on a 12 MP
/// phone photo and a 4K one at the sizes feeds ask for. Each case runs off the
/// cooperative pool (seconds of libvips work would starve the suite's servers).
@Suite(.ownThreads) struct LibjpegTurboPathTests {
    /// Mean and largest absolute difference of two equal-length byte arrays.
    static func difference(_ a: [UInt8], _ b: [UInt8]) -> (mean: Double, largest: Int) {
        var total = 0, largest = 0
        for index in a.indices {
            let d = abs(Int(a[index]) - Int(b[index]))
            total += d
            largest = max(largest, d)
        }
        return (Double(total) / Double(max(1, a.count)), largest)
    }

    /// A shrink-on-load decode of a corpus photo (1/`shrink`), in memory.
    static func decoded(_ name: String, shrink: Int) throws -> VipsImage {
        let path = Fixture.path(try Fixture.corpus(name))
        let header = try VipsImage.open(path: path)
        // scaled = the decode's own size: no resize, so this is the decode alone.
        let width = header.width / shrink, height = header.height / shrink
        return try VipsImage.thumbnailJPEG(path: path, header: header, shrink: shrink, scaledWidth: width, scaledHeight: height,
                                           finalWidth: width, finalHeight: height, fit: .inside, autoRotate: false).materialized()
    }

    @Test(arguments: [("jpeg-12mp-o1.jpg", 8, 400), ("jpeg-12mp-o1.jpg", 4, 640), ("jpeg-4k.jpg", 8, 320), ("jpeg-4k.jpg", 2, 1200), ("jpeg-gray.jpg", 8, 100)])
    func theResizeMatchesLibvipsLanczos3(name: String, shrink: Int, width: Int) async throws {
        try await offPool { try Self.compareResize(name: name, shrink: shrink, width: width) }
    }

    static func compareResize(name: String, shrink: Int, width: Int) throws {
        let source = try Self.decoded(name, shrink: shrink)
        let height = max(1, Int((Double(source.height) * Double(width) / Double(source.width)).rounded()))
        let reference = try source.resized(xScale: Double(width) / Double(source.width), yScale: Double(height) / Double(source.height))
        #expect(reference.width == width && reference.height == height)
        let bands = source.bands
        let input = bands == 1 ? try source.greyBytes() : try source.rgbBytes()
        var output = [UInt8](repeating: 0, count: width * height * bands)
        let status = input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                kiln_resample_lanczos3(i.baseAddress, Int32(source.width), Int32(source.height), Int32(bands), o.baseAddress, Int32(width), Int32(height))
            }
        }
        #expect(status == 0)
        let expected = bands == 1 ? try reference.greyBytes() : try reference.rgbBytes()
        let (mean, largest) = Self.difference(output, expected)
        print("Lanczos-3 vs libvips, \(name) 1/\(shrink) -> \(width) px: mean difference \(String(format: "%.3f", mean)), largest \(largest)")
        #expect(mean <= 0.5 && largest <= 32, "mean \(mean), largest \(largest)")
    }

    @Test(arguments: [
        ImageEncoding.jpeg(quality: 80, strip: true),
        .jpeg(quality: 95, strip: true),
        .jpeg(quality: 60, progressive: true, strip: true),
        .jpeg(quality: 80, subsampling: .yuv444, strip: true),
        .jpeg(quality: 92, subsampling: .yuv420, strip: true),
    ])
    func smallJPEGsDecodeToWhatLibvipsWrites(encoding: ImageEncoding) async throws {
        try await offPool { try Self.compareSaves(encoding) }
    }

    static func compareSaves(_ encoding: ImageEncoding) throws {
        let directory = NSTemporaryDirectory() + "kiln-jpeg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["jpeg-12mp-o6.jpg", "jpeg-gray.jpg"] {
            let thumbnail = try VipsImage.thumbnail(path: Fixture.path(try Fixture.corpus(name)), width: 400, height: 400, fit: .inside).materialized()
            let ours = directory + "/ours.jpg", theirs = directory + "/theirs.jpg"
            try thumbnail.save(to: ours, as: encoding, libjpegTurbo: true)
            try thumbnail.save(to: theirs, as: encoding, libjpegTurbo: false)
            let a = try VipsImage.open(path: ours), b = try VipsImage.open(path: theirs)
            #expect(a.width == b.width && a.height == b.height && a.bands == b.bands)
            let (mean, largest) = Self.difference(try a.rgbBytes(), try b.rgbBytes())
            let sizes = try [ours, theirs].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int ?? 0 }
            print("libjpeg-turbo vs libvips jpegsave, \(name) \(encoding): \(sizes[0]) vs \(sizes[1]) bytes, mean difference \(String(format: "%.3f", mean)), largest \(largest)")
            #expect(mean <= 0.05 && largest <= 2, "mean \(mean), largest \(largest)")
            #expect(abs(sizes[0] - sizes[1]) <= sizes[1] / 50, "\(sizes)")
            #expect(!a.hasField("exif-data") && !a.hasField("icc-profile-data"))
        }
    }
}
