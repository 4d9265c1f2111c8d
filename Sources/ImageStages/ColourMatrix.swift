import Foundation

/// An affine map of sRGB values, `out = matrix · in + offset`. Every colour
/// adjustment of `filter` (the CSS filter functions' definitions) is one, so a
/// whole look composes into a single matrix and costs one pass over the pixels.
struct ColourMatrix: Equatable {
    var matrix: [[Double]]
    var offset: [Double]

    static let identity = ColourMatrix(matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], offset: [0, 0, 0])

    /// This map, then `next`.
    func then(_ next: ColourMatrix) -> ColourMatrix {
        var composed = ColourMatrix.identity
        for row in 0..<3 {
            for column in 0..<3 {
                composed.matrix[row][column] = (0..<3).reduce(0) { $0 + next.matrix[row][$1] * matrix[$1][column] }
            }
            composed.offset[row] = (0..<3).reduce(next.offset[row]) { $0 + next.matrix[row][$1] * offset[$1] }
        }
        return composed
    }

    func apply(_ rgb: [Double]) -> [Double] {
        (0..<3).map { row in (0..<3).reduce(offset[row]) { $0 + matrix[row][$1] * rgb[$1] } }
    }

    var isIdentity: Bool { self == .identity }

    static func scale(_ factor: Double) -> ColourMatrix {
        ColourMatrix(matrix: [[factor, 0, 0], [0, factor, 0], [0, 0, factor]], offset: [0, 0, 0])
    }

    /// CSS `brightness()`: a multiplier, 1 unchanged.
    static func brightness(_ amount: Double) -> ColourMatrix { scale(amount) }

    /// CSS `contrast()`: stretches values away from mid-grey, 1 unchanged.
    static func contrast(_ amount: Double) -> ColourMatrix {
        ColourMatrix(matrix: scale(amount).matrix, offset: Array(repeating: 127.5 * (1 - amount), count: 3))
    }

    /// CSS `saturate()`: 0 grey, 1 unchanged, above 1 more vivid.
    static func saturation(_ s: Double) -> ColourMatrix {
        ColourMatrix(matrix: [
            [0.213 + 0.787 * s, 0.715 - 0.715 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 + 0.285 * s, 0.072 - 0.072 * s],
            [0.213 - 0.213 * s, 0.715 - 0.715 * s, 0.072 + 0.928 * s],
        ], offset: [0, 0, 0])
    }

    /// CSS `grayscale()`: 1 fully grey (equal channels, Rec. 709 luma).
    static func grayscale(_ amount: Double) -> ColourMatrix {
        let g = 1 - min(max(amount, 0), 1)
        return ColourMatrix(matrix: [
            [0.2126 + 0.7874 * g, 0.7152 - 0.7152 * g, 0.0722 - 0.0722 * g],
            [0.2126 - 0.2126 * g, 0.7152 + 0.2848 * g, 0.0722 - 0.0722 * g],
            [0.2126 - 0.2126 * g, 0.7152 - 0.7152 * g, 0.0722 + 0.9278 * g],
        ], offset: [0, 0, 0])
    }

    /// CSS `sepia()`: 1 fully sepia.
    static func sepia(_ amount: Double) -> ColourMatrix {
        let g = 1 - min(max(amount, 0), 1)
        return ColourMatrix(matrix: [
            [0.393 + 0.607 * g, 0.769 - 0.769 * g, 0.189 - 0.189 * g],
            [0.349 - 0.349 * g, 0.686 + 0.314 * g, 0.168 - 0.168 * g],
            [0.272 - 0.272 * g, 0.534 - 0.534 * g, 0.131 + 0.869 * g],
        ], offset: [0, 0, 0])
    }

    /// CSS `hue-rotate()`, in degrees.
    static func hue(_ degrees: Double) -> ColourMatrix {
        let c = cos(degrees * .pi / 180), s = sin(degrees * .pi / 180)
        return ColourMatrix(matrix: [
            [0.213 + c * 0.787 - s * 0.213, 0.715 - c * 0.715 - s * 0.715, 0.072 - c * 0.072 + s * 0.928],
            [0.213 - c * 0.213 + s * 0.143, 0.715 + c * 0.285 + s * 0.140, 0.072 - c * 0.072 - s * 0.283],
            [0.213 - c * 0.213 - s * 0.787, 0.715 - c * 0.715 + s * 0.715, 0.072 + c * 0.928 + s * 0.072],
        ], offset: [0, 0, 0])
    }

    /// CSS `invert()`: 1 fully inverted.
    static func invert(_ amount: Double) -> ColourMatrix {
        let a = min(max(amount, 0), 1)
        return ColourMatrix(matrix: scale(1 - 2 * a).matrix, offset: Array(repeating: 255 * a, count: 3))
    }

    /// Multiplies by `colour` with `strength` (0 none, 1 full): a colour wash.
    static func tint(red: Double, green: Double, blue: Double, strength: Double) -> ColourMatrix {
        let s = min(max(strength, 0), 1)
        let factors = [red, green, blue].map { (1 - s) + s * $0 / 255 }
        return ColourMatrix(matrix: [[factors[0], 0, 0], [0, factors[1], 0], [0, 0, factors[2]]], offset: [0, 0, 0])
    }
}
