import Foundation

/// An IPv4 or IPv6 address as bytes, and what kind of destination it is.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes, or 16.
    public let bytes: [UInt8]

    public init?(_ text: String) {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        // A zone (fe80::1%eth0) names a link: the address stays link-local.
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
        } else {
            return nil
        }
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public var isIPv4: Bool { bytes.count == 4 }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var copy = bytes
        _ = inet_ntop(isIPv4 ? AF_INET : AF_INET6, &copy, &buffer, socklen_t(buffer.count))
        return String(cString: buffer)
    }

    /// Kinds of destination. Only `global` is somewhere on the public Internet.
    public enum Kind: String, Sendable {
        case global, loopback, unspecified, privateNetwork = "private", sharedAddressSpace = "shared", linkLocal = "link-local"
        case uniqueLocal = "unique-local", multicast, broadcast, documentation, benchmarking, reserved
    }

    /// What this address reaches, by the IANA special-purpose registries. IPv6
    /// forms that carry an IPv4 address (mapped, NAT64, 6to4) are judged by it.
    public var kind: Kind {
        if isIPv4 { return Self.kindOfIPv4(bytes) }
        let b = bytes
        func prefix(_ head: [UInt8], bits: Int) -> Bool { Self.matches(b, head, bits: bits) }
        if b.allSatisfy({ $0 == 0 }) { return .unspecified }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .loopback }
        if prefix([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], bits: 96) { return Self.kindOfIPv4(Array(b[12...])) }
        if prefix([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], bits: 96) { return Self.kindOfIPv4(Array(b[12...])) }
        if prefix([0x20, 0x02], bits: 16) { return Self.kindOfIPv4(Array(b[2..<6])) }
        // The deprecated IPv4-compatible form (::a.b.c.d) and the rest of ::/8.
        if b[0] == 0 { return .reserved }
        if prefix([0, 0x64, 0xff, 0x9b, 0, 1], bits: 48) { return .reserved }
        if prefix([0x01, 0, 0, 0, 0, 0, 0, 0], bits: 64) { return .reserved }
        if prefix([0x20, 0x01, 0x0d, 0xb8], bits: 32) { return .documentation }
        if prefix([0x3f, 0xff], bits: 20) { return .documentation }
        // 2001::/23: IETF protocol assignments (Teredo, benchmarking, ORCHID, …).
        if prefix([0x20, 0x01, 0x00], bits: 23) { return .reserved }
        if prefix([0xfc], bits: 7) { return .uniqueLocal }
        if prefix([0xfe, 0x80], bits: 10) { return .linkLocal }
        // Site-local, deprecated but still routed inside some networks.
        if prefix([0xfe, 0xc0], bits: 10) { return .privateNetwork }
        if b[0] == 0xff { return .multicast }
        // Global unicast is 2000::/3; the rest is unassigned.
        return prefix([0x20], bits: 3) ? .global : .reserved
    }

    static func kindOfIPv4(_ b: [UInt8]) -> Kind {
        func prefix(_ head: [UInt8], bits: Int) -> Bool { matches(b, head, bits: bits) }
        if b == [255, 255, 255, 255] { return .broadcast }
        if b[0] == 0 { return .unspecified }
        if b[0] == 127 { return .loopback }
        if b[0] == 10 || prefix([172, 16], bits: 12) || prefix([192, 168], bits: 16) { return .privateNetwork }
        if prefix([100, 64], bits: 10) { return .sharedAddressSpace }
        if prefix([169, 254], bits: 16) { return .linkLocal }
        if prefix([192, 0, 2], bits: 24) || prefix([198, 51, 100], bits: 24) || prefix([203, 0, 113], bits: 24) { return .documentation }
        if prefix([198, 18], bits: 15) { return .benchmarking }
        if prefix([192, 0, 0], bits: 24) || prefix([192, 88, 99], bits: 24) { return .reserved }
        if b[0] >= 224 && b[0] <= 239 { return .multicast }
        if b[0] >= 240 { return .reserved }
        return .global
    }

    /// Whether the first `bits` of `address` equal those of `head`.
    static func matches(_ address: [UInt8], _ head: [UInt8], bits: Int) -> Bool {
        var left = bits
        for (index, byte) in head.enumerated() where left > 0 {
            guard index < address.count else { return false }
            let take = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - take))
            if address[index] & mask != byte & mask { return false }
            left -= take
        }
        return left <= 0
    }
}

/// An address range in CIDR form (`10.0.0.0/8`, `::1/128`; a bare address is one address).
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let bits: Int

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let address = IPAddress(first) else { return nil }
        let width = address.bytes.count * 8
        let bits = parts.count == 2 ? Int(parts[1]) : width
        guard let bits, (0...width).contains(bits) else { return nil }
        self.address = address
        self.bits = bits
    }

    public func contains(_ other: IPAddress) -> Bool {
        // An IPv4-mapped IPv6 address is the IPv4 address it carries.
        let candidate = other.unmapped
        guard candidate.bytes.count == address.bytes.count else { return false }
        return IPAddress.matches(candidate.bytes, address.bytes, bits: bits)
    }

    public var description: String { "\(address)/\(bits)" }
}

extension IPAddress {
    /// `::ffff:a.b.c.d` as `a.b.c.d`; any other address as itself.
    public var unmapped: IPAddress {
        guard !isIPv4, IPAddress.matches(bytes, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff], bits: 96) else { return self }
        return IPAddress(bytes: Array(bytes[12...]))!
    }
}
