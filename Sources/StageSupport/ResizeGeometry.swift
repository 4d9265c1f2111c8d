import PipelineEngine

/// How `resize` fits an image to the box it is given (sharp's names).
public enum ResizeFit: String, Sendable, CaseIterable {
    /// Fill the box, keep the aspect ratio, crop what overflows.
    case cover
    /// Fit inside the box, keep the aspect ratio, pad the rest with the background.
    case contain
    /// Fill the box exactly, ignoring the aspect ratio.
    case fill
    /// Fit inside the box, keep the aspect ratio; the result may be smaller than the box.
    case inside
    /// Cover the box, keep the aspect ratio; the result may be larger than the box.
    case outside
}

/// The arithmetic of a resize, apart from pixels: from the source size and the
/// request, the size the image is scaled to and the size it ends as (after a
/// cover crop or a contain pad). Known before decoding, so bombs are refused
/// from the header.
public struct ResizeGeometry: Equatable, Sendable {
    public var scaledWidth: Int
    public var scaledHeight: Int
    public var finalWidth: Int
    public var finalHeight: Int
    /// The larger of the two scale factors, before rounding: what a shared
    /// decode must reach so this step loses nothing.
    public var largestScale: Double

    public init(scaledWidth: Int, scaledHeight: Int, finalWidth: Int, finalHeight: Int, largestScale: Double = 1) {
        self.scaledWidth = scaledWidth
        self.scaledHeight = scaledHeight
        self.finalWidth = finalWidth
        self.finalHeight = finalHeight
        self.largestScale = largestScale
    }

    /// - Parameters: `width` / `height`: the box; a missing side follows the aspect ratio.
    ///   `enlarge`: false keeps every scale factor at or below 1.
    public init(sourceWidth: Int, sourceHeight: Int, width: Int?, height: Int?, fit: ResizeFit, enlarge: Bool) {
        let w = Double(sourceWidth), h = Double(sourceHeight)
        var xScale: Double, yScale: Double
        switch (width, height) {
        case let (width?, height?):
            let sx = Double(width) / w, sy = Double(height) / h
            switch fit {
            case .fill: (xScale, yScale) = (sx, sy)
            case .cover, .outside: (xScale, yScale) = (max(sx, sy), max(sx, sy))
            case .contain, .inside: (xScale, yScale) = (min(sx, sy), min(sx, sy))
            }
        case let (width?, nil): (xScale, yScale) = (Double(width) / w, Double(width) / w)
        case let (nil, height?): (xScale, yScale) = (Double(height) / h, Double(height) / h)
        case (nil, nil): (xScale, yScale) = (1, 1)
        }
        if !enlarge { (xScale, yScale) = (min(xScale, 1), min(yScale, 1)) }
        largestScale = max(xScale, yScale)
        scaledWidth = max(1, Int((w * xScale).rounded()))
        scaledHeight = max(1, Int((h * yScale).rounded()))
        // Rounding must not cost the side that was asked for a pixel (4000 * 0.08 = 319.99...).
        if let width, abs(scaledWidth - width) <= 1 { scaledWidth = width }
        if let height, abs(scaledHeight - height) <= 1 { scaledHeight = height }
        switch (fit, width, height) {
        case let (.cover, width?, height?):
            finalWidth = min(width, scaledWidth)
            finalHeight = min(height, scaledHeight)
        case let (.contain, width?, height?):
            finalWidth = width
            finalHeight = height
        default:
            finalWidth = scaledWidth
            finalHeight = scaledHeight
        }
    }
}
