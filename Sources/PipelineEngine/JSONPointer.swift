import Foundation

/// An RFC 6901 JSON pointer, built up while walking a request so that every
/// validation error names the exact field: `/outputs/thumb/1/format`.
public struct JSONPointer: Sendable, Hashable, CustomStringConvertible {
    public private(set) var tokens: [String]

    public init(_ tokens: [String] = []) { self.tokens = tokens }

    public static let root = JSONPointer()

    public func appending(_ token: String) -> JSONPointer {
        JSONPointer(tokens + [token])
    }

    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }

    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }.joined()
    }
}
