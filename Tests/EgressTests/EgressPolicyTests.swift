import Egress
import Testing

/// The address check alone: no connection is made to any of these.
struct EgressPolicyTests {
    static let refused: [(String, IPAddress.Kind)] = [
        ("127.0.0.1", .loopback), ("127.255.255.254", .loopback), ("::1", .loopback),
        ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified), ("::", .unspecified),
        ("10.0.0.1", .privateNetwork), ("172.16.0.1", .privateNetwork), ("172.31.255.255", .privateNetwork),
        ("192.168.1.1", .privateNetwork), ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
        ("169.254.169.254", .linkLocal), ("169.254.0.1", .linkLocal), ("fe80::1", .linkLocal), ("fe80::1%eth0", .linkLocal),
        ("fc00::1", .uniqueLocal), ("fd12:3456::1", .uniqueLocal), ("fec0::1", .privateNetwork),
        ("224.0.0.1", .multicast), ("239.255.255.250", .multicast), ("ff02::1", .multicast),
        ("255.255.255.255", .broadcast), ("240.0.0.1", .reserved), ("192.0.0.8", .reserved),
        ("192.0.2.1", .documentation), ("198.51.100.7", .documentation), ("203.0.113.9", .documentation), ("2001:db8::1", .documentation),
        ("198.18.0.1", .benchmarking), ("198.19.255.255", .benchmarking),
        // IPv6 forms that carry an IPv4 address are judged by that address.
        ("::ffff:127.0.0.1", .loopback), ("::ffff:10.1.2.3", .privateNetwork), ("::ffff:169.254.169.254", .linkLocal),
        ("64:ff9b::a9fe:a9fe", .linkLocal), ("2002:7f00:1::", .loopback), ("2002:c0a8:0101::1", .privateNetwork),
        ("::127.0.0.1", .reserved), ("100::1", .reserved), ("2001::1", .reserved), ("4000::1", .reserved),
    ]

    @Test(arguments: refused)
    func specialPurposeAddressesAreRefused(address: String, kind: IPAddress.Kind) throws {
        let parsed = try #require(IPAddress(address))
        #expect(parsed.kind == kind, "\(address): \(parsed.kind)")
        #expect(EgressPolicy().refusal(of: parsed) != nil)
    }

    @Test(arguments: ["8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "169.253.1.1",
                      "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8", "2002:0808:0808::1"])
    func publicAddressesAreAllowed(address: String) throws {
        let parsed = try #require(IPAddress(address))
        #expect(parsed.kind == .global, "\(address): \(parsed.kind)")
        #expect(EgressPolicy().refusal(of: parsed) == nil)
    }

    @Test func aListedRangeIsAllowedAndNothingBeside() throws {
        let policy = EgressPolicy(allowedNetworks: try #require(EgressPolicy.networks(parsing: "127.0.0.1/32, 10.20.0.0/16,fd00::/8")))
        #expect(policy.refusal(of: IPAddress("127.0.0.1")!) == nil)
        #expect(policy.refusal(of: IPAddress("::ffff:127.0.0.1")!) == nil, "the mapped form of a listed address")
        #expect(policy.refusal(of: IPAddress("127.0.0.2")!) != nil)
        #expect(policy.refusal(of: IPAddress("10.20.255.1")!) == nil)
        #expect(policy.refusal(of: IPAddress("10.21.0.1")!) != nil)
        #expect(policy.refusal(of: IPAddress("fd00::5")!) == nil)
        #expect(policy.refusal(of: IPAddress("::1")!) != nil)
        #expect(EgressPolicy.networks(parsing: "10.0.0.0/33") == nil)
        #expect(EgressPolicy.networks(parsing: "localhost") == nil)
    }

    /// Names and the numeric spellings the resolver reads are judged by the addresses they resolve to
    /// (all of which resolve without a DNS server).
    @Test(arguments: ["http://localhost/hook", "http://127.1/hook", "http://2130706433/hook", "http://0x7f.0.0.1/hook",
                      "http://[::1]:8080/hook", "http://[::ffff:127.0.0.1]/hook", "https://0.0.0.0/hook", "http://LOCALHOST./x"])
    func namesAndSpellingsOfLoopbackAreRefused(url: String) async {
        await #expect(throws: EgressPolicy.Refused.self) { _ = try await EgressPolicy().destination(for: url) }
    }

    @Test func aRefusalSaysWhatKindOfAddressItIs() async throws {
        do {
            _ = try await EgressPolicy().destination(for: "http://169.254.169.254/latest/meta-data")
            Issue.record("the metadata address was allowed")
        } catch {
            #expect(error.reason == "169.254.169.254 is a link-local address")
        }
        let allowed = EgressPolicy(allowedNetworks: [IPNetwork("127.0.0.0/8")!])
        let destination = try await allowed.destination(for: "http://127.0.0.1:9/hook")
        #expect(destination.address == IPAddress("127.0.0.1") && destination.port == 9)
    }
}
