import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

@Suite(.ownThreads) struct EncodeStageTests {
    func encoded(_ parameters: [String: JSONValue], from input: String = "gradient.webp") async throws -> (path: String, image: VipsImage, bytes: [UInt8]) {
        var encode = parameters
        encode["op"] = "encode"
        let path = try await runOperations(input, [.object(encode)])
        return (path, try VipsImage.open(path: path).materialized(), Array(try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    @Test(arguments: [("jpeg", "jpegload", "jpg"), ("png", "pngload", "png"), ("webp", "webpload", "webp"),
                      ("avif", "heifload", "avif"), ("gif", "gifload", "gif"), ("heic", "heifload", "heic")])
    func everyFormatDecodesAtItsSize(_ format: String, _ loader: String, _ fileExtension: String) async throws {
        let (path, image, _) = try await encoded(["format": .string(format)])
        #expect(path.hasSuffix("." + fileExtension))
        #expect(image.loader == loader)
        #expect(image.width == 300 && image.height == 200)
    }

    /// The Y component's sampling factors in a JPEG's start-of-frame segment,
    /// and whether that frame is progressive (SOF2).
    func jpegFrame(_ bytes: [UInt8]) -> (progressive: Bool, lumaSampling: UInt8)? {
        var i = 2
        while i + 4 < bytes.count, bytes[i] == 0xFF {
            let marker = bytes[i + 1], length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if marker == 0xC0 || marker == 0xC2 { return (marker == 0xC2, bytes[i + 11]) }
            i += 2 + length
        }
        return nil
    }

    /// HEIC as phones write it: HEVC in HEIF with the heic brand, read back by libvips and by heif-info.
    @Test func heicIsHEVC() async throws {
        let (path, image, bytes) = try await encoded(["format": "heic", "quality": 60], from: "corpus/jpeg-1080-o6.jpg")
        #expect(image.stringField("heif-compression") == "hevc" && image.width == 1080 && image.height == 1920)
        #expect(String(decoding: bytes[4..<12], as: UTF8.self) == "ftypheic", "the heic brand: \(String(decoding: bytes[4..<12], as: UTF8.self))")
        let info = String(decoding: try await runToolOffPool("heif-info", [path]), as: UTF8.self)
        #expect(info.contains("1080x1920") && info.contains("primary"), "\(info)")
    }

    @Test func jpegOptionsReachTheFile() async throws {
        let plain = try #require(jpegFrame(try await encoded(["format": "jpeg", "quality": 75]).bytes))
        #expect(!plain.progressive && plain.lumaSampling == 0x22, "baseline 4:2:0")
        let rich = try #require(jpegFrame(try await encoded(["format": "jpeg", "progressive": true, "chromaSubsampling": "4:4:4"]).bytes))
        #expect(rich.progressive && rich.lumaSampling == 0x11, "progressive 4:4:4")
    }

    @Test func pngPaletteIsIndexedAndSmaller() async throws {
        let full = try await encoded(["format": "png"])
        let palette = try await encoded(["format": "png", "palette": true])
        // IHDR's colour type: 2 truecolour, 3 indexed.
        #expect(full.bytes[25] == 2 && palette.bytes[25] == 3)
        #expect(palette.bytes.count < full.bytes.count)
    }

    @Test func qualityAndEffortChangeTheBytes() async throws {
        let low = try await encoded(["format": "webp", "quality": 20]).bytes.count
        let high = try await encoded(["format": "webp", "quality": 95]).bytes.count
        #expect(low < high)
        let lossless = try await encoded(["format": "avif", "lossless": true]).image
        #expect(lossless.width == 300)
    }

    @Test func metadataIsStrippedUnlessKept() async throws {
        let stripped = try await encoded(["format": "jpeg"], from: "photo-exif6.jpg").image
        #expect(!stripped.hasField("exif-data"))
        let kept = try await encoded(["format": "jpeg", "stripMetadata": false], from: "photo-exif6.jpg").image
        #expect(kept.hasField("exif-data"))
        #expect(kept.orientation == 1, "the pixels are upright, so the tag says so")
    }

    @Test func strippingAProfileConvertsToSRGBFirst() async throws {
        // The fixture's red, re-expressed in Display P3 with that profile attached.
        let p3 = NSTemporaryDirectory() + "p3-\(UUID().uuidString).png"
        try runVipsTool(["icc_transform", Fixture.path("photo-exif6.jpg"), p3, "p3"])
        let tagged = try VipsImage.open(path: p3).materialized()
        #expect(tagged.hasField("icc-profile-data"))
        let original = try VipsImage.open(path: Fixture.path("photo-exif6.jpg")).materialized().pixel(x: 10, y: 10)
        #expect(abs(try tagged.pixel(x: 10, y: 10)[0] - original[0]) > 10, "P3 numbers differ from sRGB ones")
        let out = try await encoded(["format": "png", "autoRotate": false], from: p3).image
        #expect(!out.hasField("icc-profile-data"))
        let back = try out.pixel(x: 10, y: 10)
        for band in 0..<3 { #expect(abs(back[band] - original[band]) <= 3, "sRGB again: \(back) vs \(original)") }
    }

    @Test func optionsForAnotherFormatAreRefused() async throws {
        let error = await stageFailure("gradient.webp", [["op": "encode", "format": "png", "quality": 50]])
        #expect(error?.code == "unexpected" && error?.message.contains("/operations/0/quality") == true, "\(String(describing: error))")
    }
}
