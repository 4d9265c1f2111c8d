/// One primitive of `filter`, with its amount.
enum Adjustment: Equatable, Sendable {
    case brightness(Double), contrast(Double), saturation(Double), hue(Double)
    case grayscale(Double), sepia(Double), invert(Double)
    case tint(String, Double)
    case blur(Double), sharpen(Double)
}

/// The named looks of `filter`, as data: each is the list of primitive
/// adjustments applied in order. The amounts follow CSSgram's CSS recreations
/// of Instagram's filters (their colour-blend overlays approximated by tints).
enum Looks {
    static let table: [String: [Adjustment]] = [
        "1977": [.contrast(1.1), .brightness(1.1), .saturation(1.3), .tint("#f36abc", 0.1)],
        "aden": [.hue(-20), .contrast(0.9), .saturation(0.85), .brightness(1.2)],
        "brannan": [.sepia(0.5), .contrast(1.4)],
        "brooklyn": [.contrast(0.9), .brightness(1.1)],
        "clarendon": [.contrast(1.2), .saturation(1.35)],
        "earlybird": [.contrast(0.9), .sepia(0.2), .tint("#d0ba8e", 0.15)],
        "gingham": [.brightness(1.05), .hue(-10), .tint("#e6e6fa", 0.2)],
        "hudson": [.brightness(1.2), .contrast(0.9), .saturation(1.1), .tint("#a6b1ff", 0.15)],
        "inkwell": [.sepia(0.3), .contrast(1.1), .brightness(1.1), .grayscale(1)],
        "juno": [.sepia(0.35), .contrast(1.15), .brightness(1.15), .saturation(1.8)],
        "lark": [.contrast(0.9), .brightness(1.1), .saturation(1.1)],
        "lofi": [.saturation(1.1), .contrast(1.5)],
        "mayfair": [.contrast(1.1), .saturation(1.1), .tint("#ffc8c8", 0.1)],
        "moon": [.grayscale(1), .contrast(1.1), .brightness(1.1)],
        "nashville": [.sepia(0.2), .contrast(1.2), .brightness(1.05), .saturation(1.2), .tint("#f7b09e", 0.15)],
        "reyes": [.sepia(0.22), .brightness(1.1), .contrast(0.85), .saturation(0.75)],
        "rise": [.brightness(1.05), .sepia(0.2), .contrast(0.9), .saturation(0.9)],
        "slumber": [.saturation(0.66), .brightness(1.05)],
        "toaster": [.contrast(1.5), .brightness(0.9), .tint("#ffc08a", 0.15)],
        "valencia": [.contrast(1.08), .brightness(1.08), .sepia(0.08)],
        "walden": [.brightness(1.1), .hue(-10), .sepia(0.3), .saturation(1.6)],
        "willow": [.grayscale(0.5), .contrast(0.95), .brightness(0.9)],
        "xpro2": [.sepia(0.3), .tint("#e6e6c8", 0.2)],
    ]

    static var names: [String] { table.keys.sorted() }
}
