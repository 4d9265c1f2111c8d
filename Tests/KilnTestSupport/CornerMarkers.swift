import VipsBindings

// The real-media corpus (scripts/corpus.py) marks each picture's corners as
// displayed: red top-left, green top-right, blue bottom-left, yellow
// bottom-right. Where the markers went tells how an output was turned.

/// How an operation moves the corners of the displayed picture.
public enum Turn: Sendable {
    case none, flip, flop, quarter, half, threeQuarters

    /// The marker colour expected at the top-left, top-right and bottom-left corners.
    public var corners: [Marker] {
        switch self {
        case .none: [.red, .green, .blue]
        case .flip: [.blue, .yellow, .red]
        case .flop: [.green, .red, .yellow]
        case .quarter: [.blue, .red, .yellow]
        case .half: [.yellow, .blue, .green]
        case .threeQuarters: [.green, .yellow, .red]
        }
    }
}

public enum Marker: String, CaseIterable, Sendable {
    case red, green, blue, yellow

    public var rgb: [Double] {
        switch self {
        case .red: [255, 0, 0]
        case .green: [0, 255, 0]
        case .blue: [0, 0, 255]
        case .yellow: [255, 255, 0]
        }
    }

    /// The marker whose colour (`colours`' where given, else pure sRGB) is nearest to `pixel`.
    public static func nearest(_ pixel: [Double], colours: [String: [Double]]? = nil) -> (Marker, Double) {
        var best = (Marker.red, Double.infinity)
        for marker in allCases {
            var sum = 0.0
            for (a, b) in zip(colours?[marker.rawValue] ?? marker.rgb, pixel) { sum += (a - b) * (a - b) }
            if sum.squareRoot() < best.1 { best = (marker, sum.squareRoot()) }
        }
        return best
    }
}

extension VipsImage {
    /// The pixels at the centres of the top-left, top-right and bottom-left corner markers
    /// (each marker covers an eighth of each side).
    public func cornerPixels() throws -> [[Double]] {
        let spots = [(width / 16, height / 16), (width - 1 - width / 16, height / 16), (width / 16, height - 1 - height / 16)]
        return try spots.map { Array(try pixel(x: $0.0, y: $0.1).prefix(3)) }
    }

    /// Whether the three corners show `turn`'s markers, each within `tolerance` of its colour.
    public func showsMarkers(_ turn: Turn, tolerance: Double = 70) throws -> Bool {
        try zip(cornerPixels(), turn.corners).allSatisfy { pixel, expected in
            let (seen, distance) = Marker.nearest(pixel)
            return seen == expected && distance <= tolerance
        }
    }
}
