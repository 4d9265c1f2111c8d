import FFmpegBindings
import PipelineEngine
import VipsBindings

/// `videoCrop`: a region of the picture (the largest of an aspect ratio, or a
/// size in the source's pixels, placed by gravity or at x, y), optionally
/// shown through a circle: the round video notes of chat apps.
struct VideoCrop: Stage, VideoEdit {
    static let descriptor = StageDescriptor(
        name: "videoCrop",
        summary: "Crop video to an aspect ratio or a region, optionally masked to a circle (round video notes)",
        accepts: VideoEditKinds.accepts,
        produces: .video,
        parameters: [
            ParameterSpec("aspect", .string(maxLength: 16), summary: "Width:height of the largest region kept, e.g. 1:1 or 9:16"),
            ParameterSpec("width", .integer(min: 2, max: 16384), summary: "Or the region's width in the source's pixels (as shown)"),
            ParameterSpec("height", .integer(min: 2, max: 16384), summary: "And its height"),
            ParameterSpec("x", .integer(min: 0, max: 16384), summary: "Left edge of the region; default by gravity"),
            ParameterSpec("y", .integer(min: 0, max: 16384), summary: "Top edge of the region; default by gravity"),
            ParameterSpec("gravity", .choice(Compass.allCases.map(\.rawValue)), default: "centre", summary: "Where the region sits"),
            ParameterSpec("shape", .choice(["rectangle", "circle"]), default: "rectangle",
                          summary: "circle: everything outside the circle (ellipse) inside the region is painted background; default aspect 1:1"),
            ParameterSpec("background", .colour, default: "#000000", summary: "Paint outside a circle"),
        ]
    )

    enum Region: Equatable {
        case aspect(Double)
        case size(width: Int, height: Int)
        case whole
    }

    let region: Region
    let origin: (x: Int?, y: Int?)
    let gravity: Compass
    let circle: Colour?

    init(parameters: Parameters, at pointer: JSONPointer) throws(ValidationError) {
        let circular = parameters.string("shape") == "circle"
        switch (parameters.string("aspect"), parameters.int("width"), parameters.int("height")) {
        case let (text?, nil, nil):
            let parts = text.split(separator: ":").compactMap { Double($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 && $0 <= 100 }), parts[0] / parts[1] >= 0.01, parts[0] / parts[1] <= 100 else {
                throw ValidationError(pointer: pointer.appending("aspect"), message: "Expected width:height, e.g. 1:1 or 9:16")
            }
            region = .aspect(parts[0] / parts[1])
        case let (nil, width?, height?): region = .size(width: width, height: height)
        case (nil, nil, nil) where circular: region = .aspect(1)
        case (nil, nil, nil): throw ValidationError(pointer: pointer, message: "videoCrop needs aspect, or width and height")
        case (_?, _, _): throw ValidationError(pointer: pointer.appending("aspect"), message: "Give aspect or width and height, not both")
        default: throw ValidationError(pointer: pointer.appending(parameters.int("width") == nil ? "width" : "height"),
                                       message: "A region needs both width and height")
        }
        if case .aspect = region, parameters.int("x") != nil || parameters.int("y") != nil {
            throw ValidationError(pointer: pointer.appending(parameters.int("x") != nil ? "x" : "y"), message: "x and y place a region of width and height")
        }
        origin = (parameters.int("x"), parameters.int("y"))
        gravity = Compass(rawValue: parameters.string("gravity") ?? "centre") ?? .centre
        circle = circular ? parameters.colour("background") ?? Colour(red: 0, green: 0, blue: 0) : nil
    }

    func run(_ input: StageValue, context: StageContext) throws(StageError) -> StageValue {
        try input.adding(self, "videoCrop")
    }

    /// The region on a picture of `size`: sides and corner even (as 4:2:0 pictures need), within the picture.
    func rect(on size: PictureSize, scale: Double) -> (x: Int, y: Int, width: Int, height: Int) {
        let evenDown = { (value: Double) in max(2, Int(value / 2) * 2) }
        var width: Int, height: Int
        switch region {
        case let .aspect(ratio):
            let fitsWidth = Double(size.width) / Double(size.height) <= ratio
            width = evenDown(fitsWidth ? Double(size.width) : Double(size.height) * ratio)
            height = evenDown(fitsWidth ? Double(size.width) / ratio : Double(size.height))
        case let .size(w, h):
            width = evenDown(Double(w) * scale)
            height = evenDown(Double(h) * scale)
        case .whole:
            width = size.width
            height = size.height
        }
        width = min(width, size.width - size.width % 2)
        height = min(height, size.height - size.height % 2)
        let placed = gravity.origin(width: width, height: height, in: size.width, size.height)
        let x = origin.x.map { Int(Double($0) * scale) } ?? placed.x
        let y = origin.y.map { Int(Double($0) * scale) } ?? placed.y
        let clamp = { (value: Int, room: Int) in max(0, min(room, value)) / 2 * 2 }
        return (clamp(x, size.width - width), clamp(y, size.height - height), width, height)
    }

    func size(after size: PictureSize, scale: Double) -> PictureSize {
        let r = rect(on: size, scale: scale)
        return PictureSize(width: r.width, height: r.height)
    }

    func steps(on size: PictureSize, scale: Double, context: StageContext) throws(StageError) -> [PictureEdits.Step] {
        let r = rect(on: size, scale: scale)
        var steps: [PictureEdits.Step] = []
        if r.width != size.width || r.height != size.height { steps.append(.crop(x: r.x, y: r.y, width: r.width, height: r.height)) }
        if let circle { steps.append(.overlay(CircleMask.picture(width: r.width, height: r.height, outside: circle))) }
        return steps
    }
}

/// A picture of one colour with a clear ellipse filling it: laid over video,
/// it leaves a circle of the picture. The rim is smoothed over a pixel.
enum CircleMask {
    static func picture(width: Int, height: Int, outside: Colour) -> OverlayPicture {
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let rx = Double(width) / 2, ry = Double(height) / 2
        let colour = [outside.red, outside.green, outside.blue].map { UInt8(max(0, min(255, $0.rounded()))) }
        let opacity = max(0, min(1, outside.alpha / 255))
        rgba.withUnsafeMutableBufferPointer { out in
            for row in 0..<height {
                let dy = (Double(row) + 0.5 - ry) / ry
                for column in 0..<width {
                    let dx = (Double(column) + 0.5 - rx) / rx
                    // Distance outside the rim in pixels, roughly: 0 on it, 1 a pixel out.
                    let beyond = ((dx * dx + dy * dy).squareRoot() - 1) * min(rx, ry) + 0.5
                    let coverage = max(0, min(1, beyond))
                    guard coverage > 0 else { continue }
                    let at = (row * width + column) * 4
                    out[at] = colour[0]
                    out[at + 1] = colour[1]
                    out[at + 2] = colour[2]
                    out[at + 3] = UInt8((coverage * opacity * 255).rounded())
                }
            }
        }
        return OverlayPicture(width: width, height: height, rgba: rgba, x: 0, y: 0)
    }
}
