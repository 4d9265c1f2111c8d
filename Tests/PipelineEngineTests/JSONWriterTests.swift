import Foundation
import PipelineEngine
import KilnTestSupport
import Testing

/// `JSONValue.encoded()` writes its own bytes; work keys and idempotency hashes
/// stored before it came are digests of what `JSONEncoder` wrote, so the two
/// must agree byte for byte.
@Suite(.ownThreads) struct JSONWriterTests {
    static func foundation(_ value: JSONValue) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("null".utf8)
    }

    static let values: [JSONValue] = [
        .null, true, false, 0, -0.0, 1, -1, 42, 0.1, -0.5, 1e-7, 2.5e-300, .number(1.0 / 3.0), 123456789012345.6, 1e15, -1e15, 999_999_999_999_999,
        1e16, 1e20, 1.7976931348623157e308, 5e-324, "", "plain", "a/b \"quoted\" back\\slash", "\u{8}\u{c}\n\r\t\u{1}\u{1b}\u{1f}\u{7f}\u{0}",
        "é 🦀 \u{2028} ﬀ", [], [:], [1, "two", [3.5, .null], ["k": false]],
        ["a10": 1, "a2": 2, "B": 3, "a": 4, "é": 5, "Z": 6, "_x": 7, "aB": 8, "ab": 9, "A": 10, "🦀": 11, "ﬀ": 12, "": 13, "a b": 14],
        ["default": [["op": "thumbnail", "width": 400, "fit": "inside", "autoRotate": true], ["op": "encode", "quality": 82.5]]],
        .number(.nan), ["x": .number(.infinity)],
    ]

    @Test func writesWhatJSONEncoderWrites() {
        for value in Self.values {
            #expect(value.encoded() == Self.foundation(value), "\(value): \(String(decoding: value.encoded(), as: UTF8.self))")
        }
    }

    @Test func writesWhatJSONEncoderWritesForRandomNumbers() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let bits = generator.next() as UInt64
            let number = Double(bitPattern: bits)
            let scaled = Double.random(in: -1e6...1e6, using: &generator)
            for value: JSONValue in [.number(number), .number(scaled), .number(scaled.rounded()), .number(Double(Int32.random(in: .min ... .max, using: &generator)))] {
                #expect(value.encoded() == Self.foundation(value), "\(value)")
            }
        }
    }
}
