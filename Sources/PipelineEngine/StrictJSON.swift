/// An RFC 8259 parser. Foundation's decoder accepts more than JSON (trailing
/// commas, for one): a request that is not JSON gets 400 `malformed_json`,
/// never a silent guess. Nesting is bounded so a hostile body cannot exhaust
/// the stack. It builds `JSONValue`s itself: Foundation's decoder, asked for a
/// JSONValue, tried each kind in turn and threw for each miss, and that was the
/// largest cost of reading a job in `kiln serve` (`make bench`'s perf profile).
public enum StrictJSON {
    public struct SyntaxError: Error, Equatable, CustomStringConvertible {
        /// Byte offset of the first thing that is not JSON.
        public var offset: Int
        public var reason: String
        public var description: String { "\(reason) at byte \(offset)" }

        public init(offset: Int, reason: String) {
            self.offset = offset
            self.reason = reason
        }
    }

    public static let maxDepth = 256

    public static func parse(_ bytes: some Collection<UInt8>) throws(SyntaxError) -> JSONValue {
        var scanner = Scanner(bytes: Array(bytes))
        scanner.skipWhitespace()
        let value = try scanner.value(depth: 0)
        scanner.skipWhitespace()
        if scanner.index != scanner.bytes.count { throw scanner.error("unexpected content after the value") }
        return value
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ reason: String) -> SyntaxError { SyntaxError(offset: index, reason: reason) }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
        }

        mutating func expect(_ literal: String) throws(SyntaxError) {
            for byte in literal.utf8 {
                guard current == byte else { throw error("expected \(literal)") }
                index += 1
            }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONValue {
            guard depth < StrictJSON.maxDepth else { throw error("nested deeper than \(StrictJSON.maxDepth)") }
            guard let byte = current else { throw error("unexpected end") }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(SyntaxError) -> JSONValue {
            index += 1
            skipWhitespace()
            var members: [String: JSONValue] = [:]
            if current == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                guard current == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let name = try string()
                skipWhitespace()
                try expect(":")
                skipWhitespace()
                members[name] = try value(depth: depth + 1)  // a repeated name: the last one counts
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    index += 1
                    skipWhitespace()
                    continue  // a member must follow: `{"a": 1,}` fails at the `}`
                }
                try expect("}")
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws(SyntaxError) -> JSONValue {
            index += 1
            skipWhitespace()
            var elements: [JSONValue] = []
            if current == UInt8(ascii: "]") { index += 1; return .array(elements) }
            while true {
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                if current == UInt8(ascii: ",") {
                    index += 1
                    skipWhitespace()
                    continue
                }
                try expect("]")
                return .array(elements)
            }
        }

        mutating func string() throws(SyntaxError) -> String {
            index += 1
            let start = index
            var unescaped: [UInt8]?  // only once an escape is met
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    let text = unescaped.map { String(validating: $0, as: UTF8.self) }
                        ?? String(validating: bytes[start..<index], as: UTF8.self)
                    guard let text else { throw error("a string that is not UTF-8") }
                    index += 1
                    return text
                case UInt8(ascii: "\\"):
                    if unescaped == nil { unescaped = Array(bytes[start..<index]) }
                    index += 1
                    try escape(into: &unescaped!)
                case 0..<0x20:
                    throw error("control character in a string")
                default:
                    unescaped?.append(byte)
                    index += 1
                }
            }
            throw error("unterminated string")
        }

        /// After a backslash: appends what the escape stands for, as UTF-8.
        mutating func escape(into text: inout [UInt8]) throws(SyntaxError) {
            guard let escaped = current else { throw error("unterminated escape") }
            index += 1
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by a low one: together they are one scalar.
                    guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("bad \\u escape: a lone surrogate")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("bad \\u escape: a lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("bad \\u escape: a lone surrogate")
                }
                text.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default: throw error("bad escape")
            }
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let hex = current, isHex(hex) else { throw error("bad \\u escape") }
                value = value << 4 | UInt32(hex <= UInt8(ascii: "9") ? hex - UInt8(ascii: "0") : (hex | 0x20) - UInt8(ascii: "a") + 10)
                index += 1
            }
            return value
        }

        func isHex(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }

        mutating func digits() -> Int {
            let start = index
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
            return index - start
        }

        mutating func number() throws(SyntaxError) -> Double {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            if current == UInt8(ascii: "0") {
                index += 1
            } else if digits() == 0 {
                throw error("expected a digit")
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw error("expected a digit after the point") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw error("expected an exponent") }
            }
            // The token is ASCII digits and signs only, as checked above.
            guard let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)), number.isFinite else {
                throw SyntaxError(offset: start, reason: "a number too large for a double")
            }
            return number
        }
    }
}
