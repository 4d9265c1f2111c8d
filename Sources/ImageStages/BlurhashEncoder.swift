import Foundation

/// The BlurHash algorithm (Wolt's published reference, blurha.sh): a few
/// cosine components of the image in linear light, quantised and written in
/// base 83. Pure arithmetic over 8-bit sRGB pixels, so it is checked against
/// the reference on the same pixels.
enum BlurhashEncoder {
    /// - Parameter pixels: `width * height` RGB triples, row by row.
    static func encode(pixels: [UInt8], width: Int, height: Int, componentsX: Int, componentsY: Int) -> String {
        precondition(pixels.count == width * height * 3 && (1...9).contains(componentsX) && (1...9).contains(componentsY))
        let linear = pixels.map { sRGBToLinear[Int($0)] }
        // cos(pi i x / width) for every component and column, computed once.
        let cosX = (0..<componentsX).map { i in (0..<width).map { x in cos(Double.pi * Double(i) * Double(x) / Double(width)) } }
        let cosY = (0..<componentsY).map { j in (0..<height).map { y in cos(Double.pi * Double(j) * Double(y) / Double(height)) } }
        var factors: [[Double]] = []
        for j in 0..<componentsY {
            for i in 0..<componentsX {
                let normalisation = (i == 0 && j == 0) ? 1.0 : 2.0
                var r = 0.0, g = 0.0, b = 0.0
                for y in 0..<height {
                    let rowBasis = normalisation * cosY[j][y]
                    for x in 0..<width {
                        let basis = rowBasis * cosX[i][x]
                        let offset = (y * width + x) * 3
                        r += basis * linear[offset]
                        g += basis * linear[offset + 1]
                        b += basis * linear[offset + 2]
                    }
                }
                let scale = 1 / Double(width * height)
                factors.append([r * scale, g * scale, b * scale])
            }
        }
        let dc = factors[0], ac = factors.dropFirst()
        var hash = base83((componentsX - 1) + (componentsY - 1) * 9, length: 1)
        let maximum: Double
        if ac.isEmpty {
            maximum = 1
            hash += base83(0, length: 1)
        } else {
            let actual = ac.flatMap { $0 }.map(abs).max() ?? 0
            let quantised = Int(max(0, min(82, (actual * 166 - 0.5).rounded(.down))))
            maximum = Double(quantised + 1) / 166
            hash += base83(quantised, length: 1)
        }
        hash += base83((linearToSRGB(dc[0]) << 16) + (linearToSRGB(dc[1]) << 8) + linearToSRGB(dc[2]), length: 4)
        for component in ac {
            let q = component.map { Int(max(0, min(18, (signedPow($0 / maximum, 0.5) * 9 + 9.5).rounded(.down)))) }
            hash += base83(q[0] * 19 * 19 + q[1] * 19 + q[2], length: 2)
        }
        return hash
    }

    static let sRGBToLinear: [Double] = (0...255).map { value in
        let v = Double(value) / 255
        return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4)
    }

    static func linearToSRGB(_ value: Double) -> Int {
        let v = max(0, min(1, value))
        return v <= 0.0031308 ? Int(v * 12.92 * 255 + 0.5) : Int((1.055 * pow(v, 1 / 2.4) - 0.055) * 255 + 0.5)
    }

    static func signedPow(_ value: Double, _ exponent: Double) -> Double {
        (value < 0 ? -1 : 1) * pow(abs(value), exponent)
    }

    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~")

    static func base83(_ value: Int, length: Int) -> String {
        var digits = ""
        for i in 1...length {
            let digit = (value / Int(pow(83, Double(length - i)))) % 83
            digits.append(alphabet[digit])
        }
        return digits
    }
}
