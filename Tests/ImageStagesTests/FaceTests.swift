import Foundation
@testable import ImageStages
import KilnTestSupport
import PipelineEngine
import Testing
import VipsBindings

/// Faces on a real photograph (NASA's astronaut portrait, as scikit-image ships
/// it), with OpenCV's Python package as the oracle for where the face is.
@Suite(.ownThreads) struct FaceTests {
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
    /// Where an overlay changed the picture: the changed pixels' bounding box and mean row.
    func changes(_ plain: VipsImage, _ marked: VipsImage) throws -> (box: Region, meanY: Double, count: Int) {
        let a = try plain.rgbBytes(), b = try marked.rgbBytes()
        var (minX, minY, maxX, maxY, sumY, count) = (Int.max, Int.max, -1, -1, 0, 0)
        for y in 0..<plain.height {
            for x in 0..<plain.width {
                let i = (y * plain.width + x) * 3
                guard abs(Int(a[i]) - Int(b[i])) + abs(Int(a[i + 1]) - Int(b[i + 1])) + abs(Int(a[i + 2]) - Int(b[i + 2])) > 6 else { continue }
                (minX, minY, maxX, maxY) = (min(minX, x), min(minY, y), max(maxX, x), max(maxY, y))
                sumY += y
                count += 1
            }
        }
        return (Region(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1), count > 0 ? Double(sumY) / Double(count) : -1, count)
    }

    /// `watermark` with `gravity: "face"`: the mark lands on the face the oracle finds, as wide as it,
    /// centred where `faceAnchor` says, and nothing else of the picture changes.
    @Test func aMarkGoesOnTheFace() async throws {
        let truth = try #require(try oracleFaces(Fixture.path("astronaut.jpg")).first)
        let plain = try decoded(try await runOperations("astronaut.jpg", [["op": "encode", "format": "png"]]))
        func marked(_ anchor: String) async throws -> (box: Region, meanY: Double, count: Int) {
            let path = try await runOperations("astronaut.jpg", [
                ["op": "watermark", "image": "assets/kiln-logo.png", "gravity": "face", "faceAnchor": .string(anchor), "opacity": 1],
                ["op": "encode", "format": "png"],
            ])
            return try changes(plain, try decoded(path))
        }
        // What of the logo is drawn (its alpha's extent), as fractions of its width and height.
        let logo = try decoded(Fixture.repositoryRoot + "/Pipelines/assets/kiln-logo.png")
        var (left, right, upper, lower) = (logo.width, 0, logo.height, 0)
        for y in 0..<logo.height {
            for x in 0..<logo.width where try logo.pixel(x: x, y: y)[3] > 10 {
                (left, right, upper, lower) = (min(left, x), max(right, x + 1), min(upper, y), max(lower, y + 1))
            }
        }
        let drawnWidth = Double(right - left) / Double(logo.width)
        let centreX = (Double(left + right) / 2) / Double(logo.width), centreY = (Double(upper + lower) / 2) / Double(logo.height)
        let centre = try await marked("centre")
        #expect(centre.count > 500, "\(centre.count) pixels changed")
        // As wide as the face, centred on it (the detector's box against the oracle's: some slack).
        let slack = truth.width / 8
        let markWidth = Double(truth.width), markHeight = markWidth * Double(logo.height) / Double(logo.width)
        #expect(abs(Double(centre.box.width) - markWidth * drawnWidth) <= Double(slack), "mark \(centre.box) on face \(truth)")
        let markX = Double(truth.x) + Double(truth.width) / 2 - markWidth / 2, markY = Double(truth.y) + Double(truth.height) / 2 - markHeight / 2
        #expect(abs(Double(centre.box.x + centre.box.width / 2) - (markX + markWidth * centreX)) <= Double(slack))
        #expect(abs(Double(centre.box.y + centre.box.height / 2) - (markY + markHeight * centreY)) <= Double(slack))
        #expect(centre.box.x >= truth.x - slack && centre.box.x + centre.box.width <= truth.x + truth.width + slack, "nothing beside the face changed")
        let eyes = try await marked("eyes"), top = try await marked("top")
        #expect(eyes.meanY < centre.meanY - Double(truth.height) * 0.05, "eyes sits higher: \(eyes.meanY) against \(centre.meanY)")
        #expect(top.box.y + top.box.height <= truth.y + slack, "a hat sits above the face: \(top.box) over \(truth)")
    }

    @Test func aFaceMarkIsAnImage() async throws {
        let text = await stageFailure("astronaut.jpg", [["op": "watermark", "text": "hi", "gravity": "face"]])
        #expect(text?.message.contains("/operations/0/gravity") == true, "\(String(describing: text))")
        let large = await stageFailure("astronaut.jpg", [["op": "watermark", "image": "assets/kiln-logo.png", "scale": 2]])
        #expect(large?.message.contains("/operations/0/scale") == true, "\(String(describing: large))")
    }
}
