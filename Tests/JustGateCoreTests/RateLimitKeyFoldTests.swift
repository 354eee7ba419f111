import Testing
@testable import JustGateCore

/// Per-user rate-limit keys that one person cannot multiply by respelling themselves: an IPv6 client by its
/// network, IPv4 inside IPv6 as IPv4, and (opt-in) an e-mail address without its tag and Gmail dots.
@Suite struct RateLimitKeyFoldTests {
    static func policy(_ scope: RateLimitScope, _ options: RateLimitKeyOptions = RateLimitKeyOptions()) -> CompiledPolicy {
        CompiledPolicy(RateLimitPolicy(name: "p", scope: scope, rate: RateLimitRate(count: 1, period: .hour)),
                       siteID: "s", keyOptions: options)
    }

    /// The key of one validated value, as the limiter sees it (memory hash and Redis digest input).
    static func key(_ policy: CompiledPolicy, _ field: String, _ value: String) throws -> (hash: Int, text: String?) {
        let fields = ValidatedRequest(pathParameter: nil, fields: [NormalisedField(name: field, value: value)])
        let check = try #require(policy.check(operationID: "x", fields: fields))
        return (check.keyHash, check.value)
    }

    static func ipKey(_ value: String, _ options: RateLimitKeyOptions = RateLimitKeyOptions()) throws -> (hash: Int, text: String?) {
        // Through the ip rule first, as in a request: the key is made from the validated value.
        let validated = try #require(accepted(.ip, value), "\(value) is not an address")
        return try key(policy(.ip, options), "ip", validated)
    }

    @Test func twoAddressesInOneSlash64AreOneKey() throws {
        let one = try Self.ipKey("2001:db8:1:2::1")
        let other = try Self.ipKey("2001:db8:1:2:ffff:eeee:dddd:cccc")
        #expect(one.hash == other.hash)
        #expect(one.text == "2001:db8:1:2::/64")
        #expect(other.text == one.text)
    }

    @Test func neighbouringSlash64sAreTwoKeys() throws {
        #expect(try Self.ipKey("2001:db8:1:2::1").hash != Self.ipKey("2001:db8:1:3::1").hash)
    }

    @Test func theIPv6PrefixLengthIsConfigurable() throws {
        let slash48 = RateLimitKeyOptions(ipv6PrefixLength: 48)
        #expect(try Self.ipKey("2001:db8:1:2::1", slash48).hash == Self.ipKey("2001:db8:1:3::1", slash48).hash)
        #expect(try Self.ipKey("2001:db8:1:2::1", slash48).text == "2001:db8:1::/48")
        let single = RateLimitKeyOptions(ipv6PrefixLength: 128)
        #expect(try Self.ipKey("2001:db8::1", single).hash != Self.ipKey("2001:db8::2", single).hash)
        #expect(try Self.ipKey("2001:db8::1", single).text == "2001:db8::1")
        #expect(try Self.ipKey("2001:db8::1:0:0:1", RateLimitKeyOptions(ipv6PrefixLength: 96)).text == "2001:db8:0:0:1::/96")
    }

    @Test(arguments: ["::ffff:1.2.3.4", "::FFFF:102:304", "64:ff9b::102:304", "64:ff9b::1.2.3.4"])
    func ipv4InsideIPv6SharesTheIPv4Key(_ embedded: String) throws {
        let ipv4 = try Self.ipKey("1.2.3.4")
        let key = try Self.ipKey(embedded)
        #expect(key.hash == ipv4.hash)
        #expect(key.text == "1.2.3.4")
    }

    @Test func onlyTheKeyChangesNotTheForwardedValue() {
        #expect(accepted(.ip, "64:ff9b::102:304") == "64:ff9b::102:304")
        #expect(accepted(.ip, "2001:db8:1:2::1") == "2001:db8:1:2::1")
    }

    @Test func ipv4AndOtherNAT64PrefixesKeepTheirOwnKeys() throws {
        #expect(try Self.ipKey("1.2.3.4").hash != Self.ipKey("1.2.3.5").hash)
        // The local-use NAT64 prefix is a network like any other: keyed by its /64.
        #expect(try Self.ipKey("64:ff9b:1::102:304").text == "64:ff9b:1::/64")
    }

    // MARK: e-mail

    static let folding = RateLimitKeyOptions(foldEmail: true)

    @Test(arguments: [
        ("anna+news@example.com", "anna@example.com"),
        ("anna+a+b@example.com", "anna@example.com"),
        ("Anna.K+x@Example.com", "anna.k@example.com"),  // dots matter outside Gmail; case does not for the key
        ("a.n.n.a+promo@gmail.com", "anna@gmail.com"),
        ("A.nna@googlemail.com", "anna@gmail.com"),
        ("+tag@example.com", "+tag@example.com"),  // nothing before the +: left as it is
        ("...@gmail.com", "...@gmail.com"),  // nothing but dots: left as it is
        ("anna@gmail.com.evil.example", "anna@gmail.com.evil.example"),
    ])
    func foldedEmailKeys(value: String, folded: String) {
        #expect(EmailLimitKey.key(of: value) == folded)
    }

    @Test func foldedSpellingsShareOneKey() throws {
        let policy = Self.policy(.email, Self.folding)
        let plain = try Self.key(policy, "email", "anna@gmail.com")
        for spelling in ["a.nna@gmail.com", "anna+1@gmail.com", "a.n.n.a+2@googlemail.com"] {
            #expect(try Self.key(policy, "email", spelling).hash == plain.hash, "\(spelling)")
        }
        #expect(try Self.key(policy, "email", "anna2@gmail.com").hash != plain.hash)
    }

    @Test func withoutTheFoldEverySpellingIsItsOwnKey() throws {
        let policy = Self.policy(.email)
        let plain = try Self.key(policy, "email", "anna@gmail.com")
        #expect(plain.text == "anna@gmail.com")
        #expect(try Self.key(policy, "email", "anna+1@gmail.com").hash != plain.hash)
        #expect(try Self.key(policy, "email", "a.nna@gmail.com").hash != plain.hash)
    }

    @Test func theFoldIsLoadedPerSiteAndOffByDefault() throws {
        let yaml = ConfigFixtures.minimal + "    email: { lowercase_local_part: false, fold_for_limits: true }\n"
        let site = try #require(ConfigFixtures.config(yaml)).config.sites[0]
        #expect(site.foldEmailForLimits)
        #expect(!site.lowercaseEmailLocalPart)
        let plain = try #require(ConfigFixtures.config(ConfigFixtures.minimal)).config.sites[0]
        #expect(!plain.foldEmailForLimits)
    }

    // MARK: config

    @Test func thePrefixLengthIsLoadedAndDefaultsTo64() throws {
        let yaml = ConfigFixtures.minimal + "rate_limit: { ipv6_prefix_length: 56 }\n"
        #expect(try #require(ConfigFixtures.config(yaml)).config.rateLimit.ipv6PrefixLength == 56)
        #expect(try #require(ConfigFixtures.config(ConfigFixtures.minimal)).config.rateLimit.ipv6PrefixLength == 64)
    }

    @Test(arguments: [16, 31, 129])
    func prefixLengthsOutsideTheRangeAreConfigErrors(length: Int) throws {
        let problems = ConfigFixtures.problems(ConfigFixtures.minimal + "rate_limit: { ipv6_prefix_length: \(length) }\n")
        let problem = try #require(problems.first { !$0.isWarning }, "\(problems)")
        #expect(problem.path == "rate_limit.ipv6_prefix_length")
        #expect(problem.message.contains("must be 32 to 128, found \(length)"), "\(problem.message)")
    }
}
