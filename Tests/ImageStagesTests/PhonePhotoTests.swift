import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// HEICs as iPhones write them, beyond what the corpus matrix checks cell by cell:
/// a burst's shown image, Display P3 colour under concurrent decodes, and the
/// mirrored-and-turned file.
@Suite(.ownThreads) struct PhonePhotoTests {
    static let burst = "corpus/heic-p3-burst.heic"

    static func pixel(_ path: String, _ x: Int, _ y: Int) throws -> [Double] {
        Array(try VipsImage.open(path: path).materialized().pixel(x: x, y: y).prefix(3))
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
    }

    /// The primary item (pitm) is shown, though a dim image is stored before it; its P3 red comes out sRGB red.
    @Test func aBurstShowsItsPrimaryImageInSRGB() async throws {
        let outputs = try await runLocally(Self.burst, ["outputs": [
            "still": [["op": "thumbnail", "width": 800], ["op": "encode", "format": "png"]],
            "facts": [["op": "metadata"]],
        ]])
        let still = try #require(outputs["still"]?.files.first?.path)
        let red = try Self.pixel(still, 20, 20)
        #expect(Self.distance(red, [255, 0, 0]) < 30, "top-left marker \(red): the primary image's red, converted from Display P3")
        let metadata = try #require(outputs["facts"]?.results["metadata"]?.objectValue)
        #expect(metadata["pages"] == 2 && metadata["width"] == 4032 && metadata["height"] == 3024, "\(metadata)")
        #expect(metadata["iccProfile"]?.stringValue?.contains("P3") == true, "\(String(describing: metadata["iccProfile"]))")
    }

    /// libvips 8.14's HEIF loader left the profile in memory another image owned: with
    /// another HEIF or AVIF decoding at once, it was sometimes gone ("corrupt profile")
    /// and P3 numbers came out unconverted. Each of these runs has a neighbour.
    @Test func profilesSurviveConcurrentDecodes() async throws {
        let operations: JSONValue = [["op": "rotate", "angle": -90], ["op": "encode", "format": "png"]]
        for _ in 0..<8 {
            async let other = runOperations("corpus/avif.avif", operations)
            async let ours = runOperations(Self.burst, operations)
            let (_, path) = try await (other, ours)
            // Turned a quarter anticlockwise: the top-right green marker is now top-left.
            let green = try Self.pixel(path, 20, 20)
            #expect(Self.distance(green, [0, 255, 0]) < 30, "\(green) is not sRGB green (P3 numbers would be 117, 251, 76)")
        }
    }
}
