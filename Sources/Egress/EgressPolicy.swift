import Foundation

/// Where Kiln may open connections on a tenant's behalf (webhooks today).
/// Only addresses on the public Internet, unless the deployment lists a range
/// in `allowedNetworks`: loopback, private, shared (CGNAT), link-local (cloud
/// metadata at 169.254.169.254), unique-local, multicast, unspecified and the
/// other special-purpose ranges are refused, in IPv4 and IPv6 and in the IPv6
/// forms that carry an IPv4 address. A name is judged by every address it
/// resolves to, and a connection then goes to one of the addresses judged
/// (`Destination.address`), never to a second resolution, so a name that
/// changes its answer between the two (DNS rebinding) gains nothing.
public struct EgressPolicy: Sendable {
    public var allowedNetworks: [IPNetwork]

    public init(allowedNetworks: [IPNetwork] = []) {
        self.allowedNetworks = allowedNetworks
    }

    /// Parses a comma-separated list of CIDR ranges; nil if one is not.
    public static func networks(parsing text: String) -> [IPNetwork]? {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let networks = parts.compactMap(IPNetwork.init)
        return networks.count == parts.count ? networks : nil
    }

    /// Why a connection to `address` is refused, or nil when it is allowed.
    public func refusal(of address: IPAddress) -> String? {
        if allowedNetworks.contains(where: { $0.contains(address) }) { return nil }
        let kind = address.kind
        return kind == .global ? nil : "\(kind.rawValue) address"
    }

    /// A URL checked for a connection: its host, port and the address to connect to.
    public struct Destination: Sendable {
        public var host: String
        public var port: Int
        public var address: IPAddress
    }

    public struct Refused: Error, CustomStringConvertible, Sendable {
        /// Short and fixed in form, fit for a tenant to read.
        public let reason: String
        public var description: String { reason }
        public init(_ reason: String) { self.reason = reason }
    }

    /// Resolves the URL's host and judges every address. `checked: false`
    /// resolves without judging (a receiver the operator configured).
    public func destination(for url: String, checked: Bool = true) async throws(Refused) -> Destination {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", var host = components.host, !host.isEmpty else {
            throw Refused("not an http(s) URL")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        let addresses = try await Self.resolve(host)
        if checked {
            for address in addresses {
                if let why = refusal(of: address) { throw Refused("\(host) is a \(why)") }
            }
        }
        return Destination(host: host, port: port, address: addresses[0])
    }

    /// Every address `host` resolves to, as the system resolver gives them (it
    /// also reads the numeric forms: `127.1`, `2130706433`, `0x7f.0.0.1`).
    static func resolve(_ host: String) async throws(Refused) -> [IPAddress] {
        let result: Result<[IPAddress], Refused> = await withCheckedContinuation { continuation in
            // getaddrinfo blocks: off Swift's cooperative threads.
            Thread.detachNewThread {
                var hints = addrinfo()
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
                var list: UnsafeMutablePointer<addrinfo>?
                let status = getaddrinfo(host, nil, &hints, &list)
                guard status == 0, let first = list else {
                    continuation.resume(returning: .failure(Refused("\(host) does not resolve")))
                    return
                }
                defer { freeaddrinfo(first) }
                var addresses: [IPAddress] = []
                var cursor: UnsafeMutablePointer<addrinfo>? = first
                while let entry = cursor {
                    if let sockaddr = entry.pointee.ai_addr {
                        switch Int32(entry.pointee.ai_family) {
                        case AF_INET:
                            let bytes = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                                withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                            }
                            IPAddress(bytes: bytes).map { addresses.append($0) }
                        case AF_INET6:
                            let bytes = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                                withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                            }
                            IPAddress(bytes: bytes).map { addresses.append($0) }
                        default: break
                        }
                    }
                    cursor = entry.pointee.ai_next
                }
                continuation.resume(returning: addresses.isEmpty ? .failure(Refused("\(host) does not resolve")) : .success(addresses))
            }
        }
        return try result.get()
    }
}
