import Testing

@testable import JustGateHTTP

/// `ClientAddress.resolve` without sockets: who the client is for every shape of peer and `X-Forwarded-For`.
@Suite struct ClientAddressTests {
    /// One row: a peer, the `X-Forwarded-For` lines it sent, and the client the gateway must record.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var peer: String
        var forwardedFor: [String]
        var client: String
        var testDescription: String { name }
    }

    /// The shipped nginx (10.0.0.10), a second proxy tier (10.1.0.0/16) and an IPv6 balancer range.
    static let trusted = ["10.0.0.10", "10.1.0.0/16", "fd00:1::/64", "::1"].map { text in
        guard case .success(let network) = IPNetwork.parse(text) else { preconditionFailure(text) }
        return network
    }

    static let cases: [Case] = [
        Case(name: "an untrusted peer is the client", peer: "203.0.113.5", forwardedFor: [], client: "203.0.113.5"),
        Case(name: "a spoofed header from an untrusted peer is ignored", peer: "203.0.113.5",
             forwardedFor: ["198.51.100.1"], client: "203.0.113.5"),
        Case(name: "a trusted peer without the header is the client", peer: "10.0.0.10", forwardedFor: [],
             client: "10.0.0.10"),
        Case(name: "one hop", peer: "10.0.0.10", forwardedFor: ["203.0.113.5"], client: "203.0.113.5"),
        Case(name: "a spoofed left part behind one hop is ignored", peer: "10.0.0.10",
             forwardedFor: ["198.51.100.1, 203.0.113.5"], client: "203.0.113.5"),
        Case(name: "several trusted hops are walked over", peer: "10.0.0.10",
             forwardedFor: ["198.51.100.1, 203.0.113.5, 10.1.2.3, 10.1.9.9"], client: "203.0.113.5"),
        Case(name: "several header lines are one list", peer: "10.0.0.10",
             forwardedFor: ["198.51.100.1, 203.0.113.5", "10.1.2.3"], client: "203.0.113.5"),
        Case(name: "all trusted: the left-most", peer: "10.0.0.10", forwardedFor: ["10.1.0.1, 10.1.0.2"],
             client: "10.1.0.1"),
        Case(name: "IPv6 peer and client", peer: "::1", forwardedFor: ["2001:db8::5"], client: "2001:db8::5"),
        Case(name: "IPv6 trusted hop", peer: "fd00:1::7", forwardedFor: ["2001:DB8:0:0::5, fd00:1::1"],
             client: "2001:db8::5"),
        Case(name: "IPv4-mapped peer matches an IPv4 block", peer: "::ffff:10.0.0.10", forwardedFor: ["203.0.113.5"],
             client: "203.0.113.5"),
        Case(name: "IPv4-mapped entry is written as IPv4", peer: "10.0.0.10", forwardedFor: ["::ffff:203.0.113.5"],
             client: "203.0.113.5"),
        Case(name: "IPv4 with a port", peer: "10.0.0.10", forwardedFor: ["203.0.113.5:5678"], client: "203.0.113.5"),
        Case(name: "bracketed IPv6 with a port", peer: "10.0.0.10", forwardedFor: ["[2001:db8::5]:443"],
             client: "2001:db8::5"),
        Case(name: "bracketed IPv6", peer: "10.0.0.10", forwardedFor: ["[::1], [2001:db8::5]"], client: "2001:db8::5"),
        Case(name: "spaces and tabs around entries", peer: "10.0.0.10", forwardedFor: [" 203.0.113.5 ,\t10.1.0.1 "],
             client: "203.0.113.5"),
        Case(name: "malformed right-most entry: the peer", peer: "10.0.0.10", forwardedFor: ["203.0.113.5, unknown"],
             client: "10.0.0.10"),
        Case(name: "malformed entry behind a trusted hop: that hop", peer: "10.0.0.10",
             forwardedFor: ["198.51.100.1, garbage, 10.1.0.7"], client: "10.1.0.7"),
        Case(name: "an empty entry ends the walk", peer: "10.0.0.10", forwardedFor: ["198.51.100.1,, 10.1.0.7"],
             client: "10.1.0.7"),
        Case(name: "an empty header: the peer", peer: "10.0.0.10", forwardedFor: [""], client: "10.0.0.10"),
        Case(name: "a host name is not an address", peer: "10.0.0.10", forwardedFor: ["evil.example"],
             client: "10.0.0.10"),
        Case(name: "leading zeros are not an address", peer: "10.0.0.10", forwardedFor: ["010.0.0.1"],
             client: "10.0.0.10"),
        Case(name: "an IPv6 zone id is not an address", peer: "10.0.0.10", forwardedFor: ["fe80::1%eth0"],
             client: "10.0.0.10"),
        Case(name: "a bare IPv6 with a port is not an address", peer: "10.0.0.10", forwardedFor: ["[2001:db8::5]:99999"],
             client: "10.0.0.10"),
        Case(name: "an IPv4 in brackets is not an address", peer: "10.0.0.10", forwardedFor: ["[203.0.113.5]"],
             client: "10.0.0.10"),
        Case(name: "RFC 7239 syntax is not X-Forwarded-For", peer: "10.0.0.10", forwardedFor: ["for=203.0.113.5"],
             client: "10.0.0.10"),
        Case(name: "an unparsable peer is kept as it is", peer: "?", forwardedFor: ["203.0.113.5"], client: "?"),
    ]

    @Test(arguments: cases)
    func resolvesTheClient(_ row: Case) {
        #expect(ClientAddress.resolve(peer: row.peer, forwardedFor: row.forwardedFor, trusted: Self.trusted) == row.client)
    }

    func head(_ headers: [HTTPHeader]) -> HTTPRequestHead {
        HTTPRequestHead(method: "GET", target: "/", versionMinor: 1, headers: headers, keepAlive: true, framing: .none,
                        expectsContinue: false)
    }

    @Test func withoutTrustedProxiesThePeerIsTheClientAndTheHeaderIsNotRead() {
        let head = head([HTTPHeader(name: "X-Forwarded-For", value: "198.51.100.1")])
        #expect(ClientAddress.resolve(peer: "127.0.0.1", head: head, trusted: []) == "127.0.0.1")
        #expect(ClientAddress.resolve(peer: "127.0.0.1", forwardedFor: ["198.51.100.1"], trusted: []) == "127.0.0.1")
    }

    @Test func headerNamesAreCaseInsensitive() {
        let head = head([
            HTTPHeader(name: "x-forwarded-for", value: "198.51.100.1"), HTTPHeader(name: "X-FORWARDED-FOR", value: "203.0.113.5"),
        ])
        #expect(ClientAddress.resolve(peer: "10.0.0.10", head: head, trusted: Self.trusted) == "203.0.113.5")
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.0.0.0/8"), ("10.0.0.5", "10.0.0.5"), ("10.0.0.5/32", "10.0.0.5"), ("0.0.0.0/0", "0.0.0.0/0"),
        ("fd00::/8", "fd00::/8"), ("::1", "::1"), ("2001:DB8::/32", "2001:db8::/32"), ("::/0", "::/0"),
    ])
    func parsesNetworks(_ text: String, _ described: String) throws {
        let network = try IPNetwork.parse(text).get()
        #expect(network.description == described)
    }

    @Test func refusesBadNetworks() {
        #expect(IPNetwork.parse("10.1.2.3/8") == .failure(.hostBitsSet(network: "10.0.0.0/8")))
        #expect(IPNetwork.parse("fd00::1/8") == .failure(.hostBitsSet(network: "fd00::/8")))
        #expect(IPNetwork.parse("10.0.0.0/33") == .failure(.badPrefix(maximum: 32)))
        #expect(IPNetwork.parse("fd00::/129") == .failure(.badPrefix(maximum: 128)))
        #expect(IPNetwork.parse("10.0.0.0/") == .failure(.badPrefix(maximum: 32)))
        #expect(IPNetwork.parse("10.0.0.0/08") == .failure(.badPrefix(maximum: 32)))
        for text in ["", "/8", "localhost", "10.0.0", "10.0.0.0.0", "256.0.0.1", "[::1]", "::1:", "1:2:3:4:5:6:7:8:9",
                     "1::2::3", "fe80::1%eth0", "10.0.0.1:80", " 10.0.0.1"] {
            #expect(IPNetwork.parse(text) == .failure(.notAnAddress), "\(text)")
        }
    }

    @Test func matchesAcrossFamilies() throws {
        let block = try IPNetwork.parse("10.0.0.0/8").get()
        #expect(block.contains(try #require(IPAddress("10.255.1.2"))))
        #expect(block.contains(try #require(IPAddress("::ffff:10.1.2.3"))))
        #expect(!block.contains(try #require(IPAddress("11.0.0.0"))))
        #expect(!block.contains(try #require(IPAddress("::a00:1"))))  // IPv4-compatible, not mapped: another address
        #expect(try IPNetwork.parse("0.0.0.0/0").get().isEverything)
        #expect(try IPNetwork.parse("::/0").get().isEverything)
        #expect(!(try IPNetwork.parse("10.0.0.0/8").get().isEverything))
    }

    @Test(arguments: ["::", "::1", "1::", "2001:db8::1", "1:2:3:4:5:6:7:8", "1:0:0:2::3", "fe80::1:0:0:1", "::ffff:1.2.3.4",
                      "64:ff9b::1.2.3.4"])
    func ipv6RoundTrips(_ text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(IPAddress(address.description) == address, "\(address)")
    }

    @Test func ipv6IsWrittenInRFC5952Form() throws {
        #expect(try #require(IPAddress("2001:0db8:0:0:0:0:0:1")).description == "2001:db8::1")
        #expect(try #require(IPAddress("1:0:0:2:0:0:0:3")).description == "1:0:0:2::3")
        #expect(try #require(IPAddress("1:0:2:3:4:5:6:7")).description == "1:0:2:3:4:5:6:7")
        #expect(try #require(IPAddress("::")).description == "::")
    }
}
