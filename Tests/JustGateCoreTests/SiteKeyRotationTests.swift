import Testing

@testable import JustGateCore

/// Several keys per site with expiry dates: parsing, the lookup's verdicts at the boundary, the loader's
/// union of `key_sha256` and `keys`, and keys that are upstream tokens.
@Suite struct SiteKeyRotationTests {
    /// 2027-01-31 00:00:00 UTC.
    static let expiryInstant: Int64 = 1_801_353_600

    @Test func aBareDateIsTheStartOfThatDayInUTC() throws {
        let expiry = try #require(SiteKeyExpiry.parse("2027-01-31"))
        #expect(expiry.unixSeconds == Self.expiryInstant)
        #expect(expiry.text == "2027-01-31")
        #expect(expiry.description == "2027-01-31 00:00:00 UTC")
        #expect(SiteKeyExpiry.parse("2027-01-31T12:30:05Z")?.unixSeconds == 1_801_398_605)
        #expect(SiteKeyExpiry.parse("2024-02-29")?.unixSeconds == 1_709_164_800)
    }

    @Test(arguments: ["", "2027-02-29", "2027-13-01", "2027-1-31", "31.01.2027", "2027-01-31T24:00:00Z",
                      "2027-01-31T10:00:00", "2027-01-31T10:00:00+03:00", "2027-01-31 ", "2027-01-31T10:00Z"])
    func anythingElseIsNotAnExpiry(text: String) {
        #expect(SiteKeyExpiry.parse(text) == nil)
    }

    @Test func aKeyWorksUntilTheSecondItExpires() throws {
        let key = SiteKey(sha256: SiteKeys.sha256("old"), expiry: SiteKeyExpiry.parse("2027-01-31"))
        #expect(!key.isExpired(at: Self.expiryInstant - 1))
        #expect(key.isExpired(at: Self.expiryInstant))
        #expect(!SiteKey(sha256: SiteKeys.sha256("forever")).isExpired(at: .max))
        #expect(key.fingerprint == String(SiteKeys.sha256Hex("old").prefix(12)))
    }

    @Test func theTableTellsAnExpiredKeyFromAnUnknownOneAndKeepsTheSitesOtherKey() throws {
        let oldKey = SiteKey(sha256: SiteKeys.sha256("old-key"), expiry: SiteKeyExpiry.parse("2027-01-31"))
        let sites = [
            SiteConfig(id: "a", keySHA256: nil,
                       keys: [oldKey, SiteKey(sha256: SiteKeys.sha256("new-key"), expiry: SiteKeyExpiry.parse("2030-01-01"))],
                       upstreamToken: .env("A")),
            SiteConfig(id: "b", keySHA256: SiteKeys.sha256("b-key"), keys: [SiteKey(sha256: SiteKeys.sha256("b-next"))],
                       upstreamToken: .env("B")),
        ]
        let table = SiteKeyTable(sites: sites)
        #expect(table.count == 4)
        let before = Self.expiryInstant - 1
        let after = Self.expiryInstant
        #expect(table.match(presentedKey: "old-key", now: before) == .site(0))
        #expect(table.match(presentedKey: "old-key", now: after) == .expired(site: 0, key: oldKey))
        #expect(table.match(presentedKey: "new-key", now: after) == .site(0))
        #expect(table.match(presentedKey: "b-key", now: after) == .site(1))
        #expect(table.match(presentedKey: "b-next", now: after) == .site(1))
        #expect(table.match(presentedKey: "other", now: after) == .unknown)
        #expect(table.match(presentedKey: "", now: after) == .unknown)
    }

    @Test func theLoaderTakesTheUnionOfKeySHA256AndKeys() throws {
        let yaml = ConfigFixtures.minimal + """
                keys:
                  - { sha256: "\(ConfigFixtures.hashB)", expires: 2027-01-31 }
                  - sha256: "\(SiteKeys.sha256Hex("third"))"
                    expires: "2027-03-01T08:00:00Z"
              - id: keys-only
                keys: [{ sha256: "\(SiteKeys.sha256Hex("fourth"))" }]
                upstream_token: { file: "${CREDENTIALS_DIRECTORY}/keys-only" }

            """
        let loaded = try #require(ConfigFixtures.config(yaml), "\(ConfigFixtures.problems(yaml))")
        let site = try #require(loaded.config.sites.first)
        #expect(site.keySHA256 == SiteKeys.sha256(ConfigFixtures.keyA))
        #expect(site.allKeys.map(\.sha256) == [ConfigFixtures.keyA, ConfigFixtures.keyB, "third"].map { SiteKeys.sha256($0) })
        #expect(site.allKeys.map { $0.expiry?.text } == [nil, "2027-01-31", "2027-03-01T08:00:00Z"])
        let keysOnly = try #require(loaded.config.sites.last)
        #expect(keysOnly.keySHA256 == nil)
        #expect(keysOnly.allKeys == [SiteKey(sha256: SiteKeys.sha256("fourth"))])
        #expect(keysOnly.upstreamToken == .file("${CREDENTIALS_DIRECTORY}/keys-only"))
    }

    @Test func aListedKeyThatIsAnUpstreamTokenIsRefused() throws {
        let token = "cLH6gah9CVp1j9kNoGrvl0i1rzLXSWDS"
        let site = SiteConfig(id: "a", keySHA256: SiteKeys.sha256("fine"),
                              keys: [SiteKey(sha256: SiteKeys.sha256("also-fine")), SiteKey(sha256: SiteKeys.sha256(token))],
                              upstreamToken: .env("T"))
        let result = SecretResolver.resolve([site], environment: FakeSecretEnvironment(variables: ["T": token]))
        guard case .failure(let errors) = result else {
            Issue.record("a key equal to the token was accepted")
            return
        }
        #expect(errors.problems.map(\.path) == ["sites[0].keys[1].sha256"])
        #expect(errors.problems.first?.message.contains("its own upstream token") == true)
        #expect(errors.problems.first?.message.contains(token) == false)
    }
}
