/// An sRGB colour with alpha, from `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa` or a
/// few names; components 0...255.
public struct Colour: Sendable, Equatable {
    public var red: Double
    public var green: Double
    public var blue: Double
    public var alpha: Double

    public init(red: Double, green: Double, blue: Double, alpha: Double = 255) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    public static let black = Colour(red: 0, green: 0, blue: 0)
    public static let white = Colour(red: 255, green: 255, blue: 255)
    public static let transparent = Colour(red: 0, green: 0, blue: 0, alpha: 0)

    static let names: [String: Colour] = ["black": .black, "white": .white, "transparent": .transparent]
    public static let syntax = "#rgb, #rgba, #rrggbb, #rrggbbaa, black, white or transparent"
    public static let pattern = "^(#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})|black|white|transparent)$"

    public init?(parsing text: String) {
        if let named = Self.names[text] {
            self = named
            return
        }
        guard text.hasPrefix("#") else { return nil }
        var digits = Array(text.dropFirst())
        guard [3, 4, 6, 8].contains(digits.count), digits.allSatisfy(\.isHexDigit) else { return nil }
        if digits.count <= 4 { digits = digits.flatMap { [$0, $0] } }
        let values = stride(from: 0, to: digits.count, by: 2).map { Double(Int(String(digits[$0...$0 + 1]), radix: 16)!) }
        self.init(red: values[0], green: values[1], blue: values[2], alpha: values.count == 4 ? values[3] : 255)
    }

    /// One value per band for an image of `bands` bands (1 or 2: grey, 3 or 4: sRGB; even counts carry alpha).
    public func bandValues(bands: Int) -> [Double] {
        let grey = 0.2126 * red + 0.7152 * green + 0.0722 * blue
        switch bands {
        case 1: return [grey]
        case 2: return [grey, alpha]
        case 3: return [red, green, blue]
        default: return [red, green, blue, alpha] + Array(repeating: alpha, count: max(0, bands - 4))
        }
    }
}
