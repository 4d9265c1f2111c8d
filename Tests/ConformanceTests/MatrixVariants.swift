import Foundation
import KilnApp
import KilnTestSupport
import PipelineEngine

/// One row of the matrix: an operation list, which corpus files it runs on, and how
/// its output is checked against what the file is.
struct Variant: Sendable {
    var label: String
    var operations: JSONValue
    var kinds: Set<CorpusFile.Kind>
    /// Further narrows the files (a costly encoder on a few sizes); nil for every file of `kinds`.
    var only: (@Sendable (CorpusFile) -> Bool)?
    var check: @Sendable (CorpusFile, LocalRun.Output) throws -> Void
}

/// The files of an output with this suffix.
func files(_ output: LocalRun.Output, _ suffix: String) -> [String] {
    output.files.map(\.path).filter { $0.hasSuffix(suffix) }
}

func onlyFile(_ output: LocalRun.Output) throws -> String {
    try require(output.files.count == 1, "\(output.files.count) files, expected one")
    return output.files[0].path
}

func rounded(_ value: Double) -> Int { Int(value.rounded()) }

/// The operation lists of the matrix: every operation of the registry with its
/// defaults, plus the variants that change how pixels are read (every fit,
/// gravity and angle, and out-of-order steps after streaming ones).
enum MatrixVariants {
    static let gravities = ["centre", "north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest",
                            "attention", "entropy", "face"]
    /// The orientation files and the two: where compass gravities, which all
    /// read the same way, are run (the smart ones run on every file).
    static let orientationFiles: @Sendable (CorpusFile) -> Bool = { $0.name.hasPrefix("jpeg-12mp-o") || $0.name == "jpeg-4k.jpg" || $0.name == "jpeg-1080-o6.jpg" }
    /// Slow encoders (AVIF, GIF quantisation) at full size: the files and one with alpha.
    static let encoderFiles: @Sendable (CorpusFile) -> Bool = { ["jpeg-4k.jpg", "jpeg-1080-o6.jpg", "webp-lossless-alpha.webp"].contains($0.name) }

    static func image(_ label: String, _ operations: JSONValue, only: (@Sendable (CorpusFile) -> Bool)? = nil, slack: Int = 1,
                      turn: Turn? = nil, size: @escaping @Sendable (Int, Int) -> (Int, Int)) -> Variant {
        Variant(label: label, operations: operations, kinds: [.image], only: only) { file, output in
            let (width, height) = size(file.displayed.width, file.displayed.height)
            try ImageCheck.check(try onlyFile(output), of: file, size: (width, height), slack: slack, turn: turn)
        }
    }

    static var images: [Variant] {
        var variants: [Variant] = [
            image("encode", [["op": "encode"]], turn: Turn.none) { ($0, $1) },
            image("thumbnail 320", [["op": "thumbnail", "width": 320]], turn: Turn.none) { w, h in scaled(w, h, 320 / Double(w)) },
            image("thumbnail cover", [["op": "thumbnail", "width": 320, "height": 320, "fit": "cover"]]) { _, _ in (320, 320) },
            image("thumbnail attention", [["op": "thumbnail", "width": 320, "height": 320, "fit": "attention"]]) { _, _ in (320, 320) },
            image("thumbnail contain", [["op": "thumbnail", "width": 320, "height": 320, "fit": "contain"]], turn: Turn.none) { w, h in
                w >= h ? (320, rounded(320 * Double(h) / Double(w))) : (rounded(320 * Double(w) / Double(h)), 320)
            },
            image("resize 800", [["op": "resize", "width": 800]], turn: Turn.none) { w, h in scaled(w, h, 800 / Double(w)) },
            image("resize fill", [["op": "resize", "width": 800, "height": 600, "fit": "fill"]], turn: Turn.none) { w, h in
                (min(w, 800), min(h, 600))
            },
            // contain pads to the box, even when the picture itself is not enlarged.
            image("resize contain", [["op": "resize", "width": 800, "height": 600, "fit": "contain"]]) { _, _ in (800, 600) },
            image("resize inside", [["op": "resize", "width": 800, "height": 600, "fit": "inside"]], turn: Turn.none) { w, h in
                scaled(w, h, min(800 / Double(w), 600 / Double(h)))
            },
            image("resize outside", [["op": "resize", "width": 800, "height": 600, "fit": "outside"]], turn: Turn.none) { w, h in
                scaled(w, h, max(800 / Double(w), 600 / Double(h)))
            },
            image("crop rectangle", [["op": "crop", "x": 16, "y": 16, "width": 400, "height": 200]]) { _, _ in (400, 200) },
            image("flip", [["op": "flip"]], turn: .flip) { ($0, $1) },
            image("flop", [["op": "flop"]], turn: .flop) { ($0, $1) },
            image("rotate 90", [["op": "rotate", "angle": 90]], turn: .quarter) { ($1, $0) },
            image("rotate 180", [["op": "rotate", "angle": 180]], turn: .half) { ($0, $1) },
            image("rotate 270", [["op": "rotate", "angle": 270]], turn: .threeQuarters) { ($1, $0) },
            image("rotate -90", [["op": "rotate", "angle": -90]], turn: .threeQuarters) { ($1, $0) },
            image("rotate 30", [["op": "rotate", "angle": 30]], slack: 2) { w, h in Self.turned(w, h, degrees: 30) },
            image("rotate -45", [["op": "rotate", "angle": -45]], slack: 2) { w, h in Self.turned(w, h, degrees: 45) },
            image("filter clarendon", [["op": "filter", "look": "clarendon"]]) { ($0, $1) },
            image("filter blur", [["op": "filter", "blur": 3]], turn: Turn.none) { ($0, $1) },
            image("filter sharpen+grey", [["op": "filter", "sharpen": 1, "grayscale": true]]) { ($0, $1) },
            image("watermark text", [["op": "watermark", "text": "© Kiln"]], turn: Turn.none) { ($0, $1) },
            image("watermark image", [["op": "watermark", "image": "assets/kiln-logo.png", "gravity": "south"]], turn: Turn.none) { ($0, $1) },
            image("redact", [["op": "redact"]]) { ($0, $1) },
            // Out of order after a streaming step.
            image("thumbnail→rotate 90", [["op": "thumbnail", "width": 640], ["op": "rotate", "angle": 90]], turn: .quarter) { w, h in
                let (width, height) = scaled(w, h, 640 / Double(w))
                return (height, width)
            },
            image("resize→flip", [["op": "resize", "width": 1000], ["op": "flip"]], turn: .flip) { w, h in scaled(w, h, 1000 / Double(w)) },
            image("resize→crop attention", [["op": "resize", "width": 1000], ["op": "crop", "width": 250, "height": 250, "gravity": "attention"]]) { _, _ in
                (250, 250)
            },
            image("filter→flip→encode webp", [["op": "filter", "blur": 1], ["op": "flip"], ["op": "encode", "format": "webp"]], turn: .flip) { ($0, $1) },
        ]
        for format in ["jpeg", "png", "webp", "avif", "gif", "heic"] {
            variants.append(image("encode \(format)", [["op": "encode", "format": .string(format)]], only: encoderFiles,
                                  turn: format == "gif" ? nil : Turn.none) { ($0, $1) })
        }
        for gravity in gravities {
            let smart = ["attention", "entropy", "face"].contains(gravity)
            variants.append(image("crop \(gravity)", [["op": "crop", "width": 1000, "height": 800, "gravity": .string(gravity)]],
                                  only: smart ? nil : orientationFiles) { w, h in (min(1000, w), min(800, h)) })
            variants.append(image("resize cover \(gravity)", [["op": "resize", "width": 800, "height": 800, "gravity": .string(gravity)]],
                                  only: smart ? nil : orientationFiles) { w, h in
                // Cover scales the short side to 800, never up; the crop then takes at most 800 of each.
                let (width, height) = scaled(w, h, 800 / Double(min(w, h)))
                return (min(width, 800), min(height, 800))
            })
        }
        variants.append(Variant(label: "blurhash", operations: [["op": "blurhash"]], kinds: [.image], only: nil) { _, output in
            let hash = output.results["blurhash"]?.stringValue ?? ""
            // 4x3 components: 1 size + 1 maximum + 4 DC + 2 x 11 AC characters.
            try require(hash.count == 28, "blurhash \(hash.debugDescription) is not 28 characters")
        })
        variants.append(Variant(label: "metadata", operations: [["op": "metadata"]], kinds: [.image], only: nil) { file, output in
            let metadata = output.results["metadata"]?.objectValue ?? [:]
            let width = metadata["width"]?.intValue, height = metadata["height"]?.intValue
            try require(width == file.displayed.width && height == file.displayed.height,
                        "metadata says \(width ?? -1)x\(height ?? -1), displayed \(file.displayed.width)x\(file.displayed.height)")
        })
        return variants
    }

    /// w x h scaled by `scale`, never enlarged (resize and thumbnail enlarge only when asked).
    static func scaled(_ width: Int, _ height: Int, _ scale: Double) -> (Int, Int) {
        let scale = min(1, scale)
        return (rounded(Double(width) * scale), rounded(Double(height) * scale))
    }

    /// The size of a w x h picture turned by `degrees`, corners included.
    static func turned(_ width: Int, _ height: Int, degrees: Double) -> (Int, Int) {
        let radians = degrees * .pi / 180, w = Double(width), h = Double(height)
        return (Int((w * abs(cos(radians)) + h * abs(sin(radians))).rounded(.up)),
                Int((w * abs(sin(radians)) + h * abs(cos(radians))).rounded(.up)))
    }
}
