import StageSupport
import CFaceDetect
import Foundation
import PipelineEngine
import VipsBindings

/// A rectangle in an image's pixel coordinates.
struct Region: Equatable, Sendable {
    var x: Int, y: Int, width: Int, height: Int

    /// This region grown by `fraction` of its size on every side, kept within `width` x `height`.
    func padded(by fraction: Double, within imageWidth: Int, _ imageHeight: Int) -> Region {
        let dx = Int(Double(width) * fraction), dy = Int(Double(height) * fraction)
        let left = max(0, x - dx), top = max(0, y - dy)
        return Region(x: left, y: top, width: min(imageWidth, x + width + dx) - left, height: min(imageHeight, y + height + dy) - top)
    }

    static func union(_ regions: [Region]) -> Region? {
        guard let first = regions.first else { return nil }
        return regions.dropFirst().reduce(first) { a, b in
            let left = min(a.x, b.x), top = min(a.y, b.y)
            return Region(x: left, y: top, width: max(a.x + a.width, b.x + b.width) - left, height: max(a.y + a.height, b.y + b.height) - top)
        }
    }
}

/// Frontal faces through OpenCV's cascade detector, run on a downscale of at
/// most `detectionSide` pixels so it costs milliseconds whatever the input.
enum FaceDetector {
    static let detectionSide = 512
    static let cascadePath = ProcessInfo.processInfo.environment["KILN_FACE_CASCADE"]
        ?? "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
    static let maxFaces = 64

    /// The faces in `image`, in its own coordinates.
    static func faces(in image: VipsImage) throws(StageError) -> [Region] {
        let scale = min(1, Double(detectionSide) / Double(max(image.width, image.height)))
        let (grey, width, height) = try withVips("face detection") {
            let small = scale < 1 ? try image.resized(xScale: scale, yScale: scale, kernel: .linear).materialized() : image
            return (try small.greyBytes(), small.width, small.height)
        }
        var found = [kiln_face](repeating: kiln_face(), count: maxFaces)
        let count = grey.withUnsafeBufferPointer { pixels in
            found.withUnsafeMutableBufferPointer { faces in
                kiln_detect_faces(pixels.baseAddress, Int32(width), Int32(height), cascadePath, 20, faces.baseAddress, Int32(maxFaces))
            }
        }
        guard count >= 0 else {
            throw StageError(code: "face_detector_unavailable", message: "cannot load the face cascade at \(cascadePath)", retryable: false)
        }
        return found.prefix(Int(count)).map { face in
            let x = Int(Double(face.x) / scale), y = Int(Double(face.y) / scale)
            return Region(x: x, y: y, width: min(image.width - x, Int(Double(face.width) / scale)),
                          height: min(image.height - y, Int(Double(face.height) / scale)))
        }
    }
}
