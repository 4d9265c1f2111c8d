import Foundation

/// Public ids: a type prefix and 24 random base32 characters (120 bits), e.g.
/// `med_4tq0x...`. Random, not sequential: ids are not guessable across tenants.
public enum Identifier {
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    public static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let body = (0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt8(alphabet.count)))] }
        return prefix + "_" + String(body)
    }

    /// Whether `id` has the shape of an id with this prefix (cheap 404 before SQL).
    public static func isValid(_ id: String, prefix: String) -> Bool {
        id.hasPrefix(prefix + "_") && id.count == prefix.count + 25
            && id.dropFirst(prefix.count + 1).allSatisfy { alphabet.contains($0) }
    }
}
