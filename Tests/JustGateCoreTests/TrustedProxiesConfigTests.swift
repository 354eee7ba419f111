import JustGateHTTP
import Testing

@testable import JustGateCore

/// `server.trusted_proxies`: checked entry by entry, each problem with its file, line and what to write instead.
@Suite struct TrustedProxiesConfigTests {
    /// `minimal` with a `server:` section from line 8 on.
    func yaml(_ entries: [String]) -> String {
        ConfigFixtures.minimal + "server:\n  trusted_proxies:\n" + entries.map { "    - \"\($0)\"\n" }.joined()
    }

    @Test func loadsIPv4AndIPv6BlocksAndSingleAddresses() throws {
        let loaded = try #require(ConfigFixtures.config(yaml(["10.0.0.0/8", "172.30.80.10", "fd00::/8", "::1"])))
        #expect(loaded.config.server.trustedProxies.map(\.description) == ["10.0.0.0/8", "172.30.80.10", "fd00::/8", "::1"])
        #expect(loaded.warnings.isEmpty)
    }

    @Test func absentMeansNoneAndEveryPeerIsTheClient() throws {
        let loaded = try #require(ConfigFixtures.config(ConfigFixtures.minimal))
        #expect(loaded.config.server.trustedProxies.isEmpty)
    }

    @Test func reportsEveryBadEntryWithItsLine() {
        let problems = ConfigFixtures.problems(yaml(["10.0.0.0/8", "nginx", "10.1.2.3/8", "10.0.0.0/40", "[::1]:80"]))
        #expect(problems.map(\.description) == [
            "config/justgate.yaml:11: server.trusted_proxies[1]: 'nginx' is not an IP address or CIDR block; write e.g. "
                + "10.0.0.5, 10.0.0.0/8, fd00::/8 or ::1 (no host names, ports or brackets)",
            "config/justgate.yaml:12: server.trusted_proxies[2]: '10.1.2.3/8' has bits set after its prefix; write the "
                + "block as 10.0.0.0/8, or the single proxy without a prefix",
            "config/justgate.yaml:13: server.trusted_proxies[3]: '10.0.0.0/40' has a bad prefix length; write a number "
                + "from 0 to 32 after the /",
            "config/justgate.yaml:14: server.trusted_proxies[4]: '[::1]:80' is not an IP address or CIDR block; write "
                + "e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8 or ::1 (no host names, ports or brackets)",
        ])
    }

    @Test func notAListIsAnError() {
        let problems = ConfigFixtures.problems(ConfigFixtures.minimal + "server:\n  trusted_proxies: 10.0.0.0/8\n")
        #expect(problems.count == 1 && problems.first?.path == "server.trusted_proxies" && problems.first?.line == 9,
                "\(problems)")
    }

    @Test func trustingEveryoneIsWarnedAbout() throws {
        let loaded = try #require(ConfigFixtures.config(yaml(["0.0.0.0/0", "::/0"])))
        #expect(loaded.warnings.map(\.path) == ["server.trusted_proxies[0]", "server.trusted_proxies[1]"])
        #expect(loaded.warnings.first?.message.contains("trusts every peer") == true)
    }
}
