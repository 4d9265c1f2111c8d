import Foundation
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// `encode` with `targetQuality`, on a phone photo: the score reported is the one
/// an independent SSIM (OpenCV and NumPy, Wang et al.'s formula) gives, the
/// target is reached, and one quality lower would not reach it.
@Suite(.ownThreads) struct QualityTargetTests {
    static let photo = "corpus/jpeg-1080-o6.jpg"

    /// SSIM of two PNGs by the reference formula: BT.601 luma, an 11x11 Gaussian window of sigma 1.5.
    static let oracle = """
    import sys, cv2, numpy as np
    def luma(path):
        image = cv2.imread(path, cv2.IMREAD_COLOR).astype(np.float64)
        return image[..., 2] * 0.299 + image[..., 1] * 0.587 + image[..., 0] * 0.114
    a, b = luma(sys.argv[1]), luma(sys.argv[2])
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    ma, mb = blur(a), blur(b)
    va, vb, cov = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    print(np.mean(((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))))
    """

    /// The upright photo, as the step encodes it, and an encoded file, both as PNG; the oracle's score.
    static func oracleScore(_ encoded: String) async throws -> Double {
        let directory = NSTemporaryDirectory() + "kiln-ssim-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try VipsImage.open(path: Fixture.path(photo)).autoRotated().save(to: directory + "/reference.png", as: .png(compression: 1, strip: true))
        try VipsImage.open(path: encoded).save(to: directory + "/encoded.png", as: .png(compression: 1, strip: true))
        let output = try await runToolOffPool("python3", ["-c", oracle, directory + "/reference.png", directory + "/encoded.png"])
        return try #require(Double(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    static func encode(_ parameters: [String: JSONValue]) async throws -> (path: String, results: [String: JSONValue]) {
        var step = parameters
        step["op"] = "encode"
        let outputs = try await runLocally(photo, ["operations": [.object(step)]])
        let output = try #require(outputs["default"])
        return (try #require(output.files.first).path, output.results)
    }

    @Test(arguments: ["jpeg", "webp"])
    func theLowestQualityThatLooksRightIsChosen(_ format: String) async throws {
        let (path, results) = try await Self.encode(["format": .string(format), "targetQuality": 0.95])
        let quality = try #require(results["quality"]?.doubleValue.map { Int($0) })
        let reported = try #require(results["ssim"]?.doubleValue)
        #expect(results["targetMet"] == true && reported >= 0.95, "\(results)")
        let measured = try await Self.oracleScore(path)
        #expect(abs(measured - reported) < 0.003, "reported \(reported), OpenCV's SSIM \(measured)")
        #expect(measured >= 0.947, "the file scores \(measured) by the reference formula")
        let lower = try await Self.encode(["format": .string(format), "quality": .number(Double(quality - 1))])
        let lowerScore = try await Self.oracleScore(lower.path)
        print("targetQuality 0.95, \(format): quality \(quality), SSIM reported \(reported), OpenCV \(measured); quality \(quality - 1): \(lowerScore)")
        #expect(lowerScore < 0.95 + 0.003, "quality \(quality - 1) scores \(lowerScore): \(quality) was not the lowest")
        let closer = try await Self.encode(["format": .string(format), "targetQuality": 0.99])
        #expect(try #require(closer.results["quality"]?.doubleValue.map { Int($0) }) > quality, "a higher target needs a higher quality")
    }

    @Test func targetQualityChoosesTheQualityItself() async throws {
        let withQuality = await stageFailure(Self.photo, [["op": "encode", "format": "jpeg", "quality": 80, "targetQuality": 0.95]])
        #expect(withQuality?.message.contains("/operations/0/targetQuality") == true, "\(String(describing: withQuality))")
        let png = await stageFailure(Self.photo, [["op": "encode", "format": "png", "targetQuality": 0.95]])
        #expect(png?.message.contains("/operations/0/targetQuality") == true, "\(String(describing: png))")
    }
}
