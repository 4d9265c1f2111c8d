import CFFmpeg

/// A picture laid over video: straight-alpha RGBA, `width * 4` bytes a row,
/// already at the size it is drawn, with its top-left corner at `x`, `y`.
public struct OverlayPicture: Sendable {
    public var width: Int
    public var height: Int
    public var rgba: [UInt8]
    public var x: Int
    public var y: Int

    public init(width: Int, height: Int, rgba: [UInt8], x: Int, y: Int) {
        precondition(rgba.count == width * height * 4, "an overlay of \(width)x\(height) needs \(width * height * 4) bytes")
        self.width = width
        self.height = height
        self.rgba = rgba
        self.x = x
        self.y = y
    }
}

/// What is done to every picture of a transcode before it is encoded, worked
/// out for one source at the output's scale: decoded pictures are scaled to
/// `scaledSize` (as stored, before any turn), then the steps run in order on
/// the upright picture, and the result is scaled to exactly `outputSize`.
public struct PictureEdits: Sendable {
    public enum Step: Sendable {
        /// Clockwise degrees: 90, 180 or 270.
        case turn(Int)
        case crop(x: Int, y: Int, width: Int, height: Int)
        case overlay(OverlayPicture)
    }

    public var scaledWidth: Int
    public var scaledHeight: Int
    public var steps: [Step]
    public var outputWidth: Int
    public var outputHeight: Int

    public init(scaledWidth: Int, scaledHeight: Int, steps: [Step], outputWidth: Int, outputHeight: Int) {
        self.scaledWidth = scaledWidth
        self.scaledHeight = scaledHeight
        self.steps = steps
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
    }

    /// Only turning a picture stored `width` x `height` upright: what a
    /// container without a display matrix (WebM, HLS) needs of a phone video.
    static func turning(_ degrees: Int, width: Int, height: Int) -> PictureEdits {
        let quarter = degrees % 180 != 0
        return PictureEdits(scaledWidth: width, scaledHeight: height, steps: [.turn(degrees)],
                            outputWidth: quarter ? height : width, outputHeight: quarter ? width : height)
    }

    var overlays: [OverlayPicture] {
        steps.compactMap { step in
            if case let .overlay(picture) = step { return picture }
            return nil
        }
    }

    /// The graph: `[in]` pictures through every step to `[out]`; overlay `n` is input `[ov<n>]`.
    var graphDescription: String {
        var chain: [String] = []
        var parts: [String] = []
        var current = "in", overlay = 0
        func flush(into label: String) {
            parts.append("[\(current)]" + (chain.isEmpty ? "null" : chain.joined(separator: ",")) + "[\(label)]")
            chain = []
            current = label
        }
        for step in steps {
            switch step {
            case let .turn(degrees): chain.append(FilterGraph.turn(degrees))
            case let .crop(x, y, width, height): chain.append("crop=\(width):\(height):\(x):\(y):exact=1")
            case let .overlay(picture):
                flush(into: "v\(overlay)")
                // The picture stays after its one frame ends (eof_action repeat), over every frame.
                parts.append("[\(current)][ov\(overlay)]overlay=x=\(picture.x):y=\(picture.y):eof_action=repeat:format=yuv420[o\(overlay)]")
                current = "o\(overlay)"
                overlay += 1
            }
        }
        // A no-op (libavfilter passes the frame through) when the steps already give this size.
        chain.append("scale=\(outputWidth):\(outputHeight):flags=bicubic")
        chain.append("format=yuv420p")
        flush(into: "out")
        return parts.joined(separator: ";")
    }
}
