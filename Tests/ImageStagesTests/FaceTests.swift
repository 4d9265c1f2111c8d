import Foundation
@testable import ImageStages
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Faces on a real photograph (NASA's astronaut portrait, as scikit-image ships
/// it), with OpenCV's Python package as the oracle for where the face is.
@Suite struct FaceTests {
    func oracleFaces(_ path: String) throws -> [Region] {
        let printed = try runOracle("face_oracle.py", input: try JSONSerialization.data(withJSONObject: ["path": path]))
        let boxes = try #require(try JSONSerialization.jsonObject(with: Data(printed.utf8)) as? [[Int]])
        return boxes.map { Region(x: $0[0], y: $0[1], width: $0[2], height: $0[3]) }
    }

    func overlap(_ a: Region, _ b: Region) -> Double {
        let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x), h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        guard w > 0, h > 0 else { return 0 }
        let inter = Double(w * h)
        return inter / (Double(a.width * a.height + b.width * b.height) - inter)
    }

    func decoded(_ path: String) throws -> VipsImage { try VipsImage.open(path: path).materialized() }

    @Test func findsTheFaceTheOracleFinds() throws {
        let truth = try #require(try oracleFaces(Fixture.path("astronaut.jpg")).first)
        let faces = try FaceDetector.faces(in: try decoded(Fixture.path("astronaut.jpg")))
        #expect(faces.count == 1)
        let face = try #require(faces.first)
        #expect(overlap(face, truth) > 0.6, "Kiln \(face) against OpenCV \(truth)")
    }

    @Test func findsItOnALargePhotoThroughTheDownscale() async throws {
        // The portrait enlarged to 2048: detection still runs on 512 px and maps back.
        let large = try await runOperations("astronaut.jpg", [["op": "resize", "width": 2048, "enlarge": true], ["op": "encode", "format": "png"]])
        let truth = try #require(try oracleFaces(Fixture.path("astronaut.jpg")).first)
        let face = try #require(try FaceDetector.faces(in: try decoded(large)).first)
        let scaled = Region(x: truth.x * 4, y: truth.y * 4, width: truth.width * 4, height: truth.height * 4)
        #expect(overlap(face, scaled) > 0.6, "\(face) against \(scaled)")
    }

    @Test func faceGravityKeepsTheFace() async throws {
        let cropped = try await runOperations("astronaut.jpg", [["op": "crop", "width": 160, "height": 160, "gravity": "face"], ["op": "encode", "format": "png"]])
        #expect(try decoded(cropped).width == 160)
        let found = try oracleFaces(cropped)
        #expect(found.count == 1, "the oracle sees the face in the crop: \(found)")
        if let face = found.first { #expect(face.width > 70 && face.x > 10 && face.y > 10, "\(face)") }
        let cover = try await runOperations("astronaut.jpg", [["op": "resize", "width": 120, "height": 300, "fit": "cover", "gravity": "face"], ["op": "encode", "format": "png"]])
        #expect(try decoded(cover).width == 120 && decoded(cover).height == 300)
    }

    @Test(arguments: ["pixelate", "blur"])
    func redactHidesTheFaceAndNothingElse(_ method: String) async throws {
        let plain = try decoded(try await runOperations("astronaut.jpg", [["op": "encode", "format": "png"]]))
        let path = try await runOperations("astronaut.jpg", [["op": "redact", "method": .string(method)], ["op": "encode", "format": "png"]])
        let redacted = try decoded(path)
        let truth = try #require(try oracleFaces(Fixture.path("astronaut.jpg")).first)
        var changed = 0, total = 0
        for y in stride(from: truth.y, to: truth.y + truth.height, by: 4) {
            for x in stride(from: truth.x, to: truth.x + truth.width, by: 4) {
                total += 1
                if try redacted.pixel(x: x, y: y) != plain.pixel(x: x, y: y) { changed += 1 }
            }
        }
        #expect(Double(changed) / Double(total) > 0.8, "\(changed) of \(total) face pixels changed")
        for (x, y) in [(5, 5), (500, 500), (400, 300), (20, 480)] {
            #expect(try redacted.pixel(x: x, y: y) == plain.pixel(x: x, y: y), "(\(x), \(y)) is far from the face")
        }
        #expect(try oracleFaces(path).isEmpty, "the oracle finds no face after \(method)")
    }
}
