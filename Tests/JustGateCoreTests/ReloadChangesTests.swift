import Testing
@testable import JustGateCore

/// `ReloadChanges`: what a reload's audit record says changed, by site id and fingerprint, never a secret.
@Suite struct ReloadChangesTests {
    static func site(_ id: String, keys: [String], token: String, limits: [RateLimitPolicy] = []) -> ResolvedSite {
        let config = SiteConfig(id: id, keySHA256: nil, keys: keys.map { SiteKey(sha256: SiteKeys.sha256($0)) },
                                upstreamToken: .env("TOKEN_\(id)"), limits: limits)
        return ResolvedSite(config: config, upstreamToken: Secret(token))
    }

    static func hourly(_ name: String, _ count: Int) -> RateLimitPolicy {
        RateLimitPolicy(name: name, scope: .number, rate: RateLimitRate(count: count, period: .hour))
    }

    @Test func anUnchangedConfigSaysSo() {
        let sites = [Self.site("blog", keys: ["k1"], token: "t1", limits: [Self.hourly("sms", 3)])]
        let changes = ReloadChanges(old: sites, new: sites)
        #expect(changes.isEmpty)
        #expect(changes.sentence == "no site, key, token or limit changed")
    }

    @Test func sitesKeysTokensAndLimitsAreNamedByFingerprint() {
        let old = [
            Self.site("blog", keys: ["old-key"], token: "old-token-value", limits: [Self.hourly("sms", 3), Self.hourly("gone", 1)]),
            Self.site("legacy", keys: ["l"], token: "l"),
        ]
        let new = [
            Self.site("blog", keys: ["old-key", "new-key"], token: "new-token-value",
                      limits: [Self.hourly("sms", 5), Self.hourly("fresh", 1)]),
            Self.site("shop", keys: ["s"], token: "s"),
        ]
        let changes = ReloadChanges(old: old, new: new)
        let newKey = SiteKey(sha256: SiteKeys.sha256("new-key")).fingerprint
        let oldToken = UpstreamTokenFingerprint.of("old-token-value")
        let newToken = UpstreamTokenFingerprint.of("new-token-value")
        #expect(changes.sitesAdded == ["shop"])
        #expect(changes.sitesRemoved == ["legacy"])
        #expect(changes.keysAdded == [.init(site: "blog", fingerprint: newKey)])
        #expect(changes.keysRemoved.isEmpty)
        #expect(changes.tokensChanged == [.init(site: "blog", old: oldToken, new: newToken)])
        #expect(changes.limitsChanged.map(\.policy) == ["sms", "fresh", "gone"])
        #expect(changes.sentence == "sites added: shop; sites removed: legacy; keys added: blog \(newKey); "
                + "tokens changed: blog \(oldToken) -> \(newToken); limits changed: blog/sms, blog/fresh, blog/gone")
        #expect(!changes.sentence.contains("token-value") && !changes.sentence.contains("new-key"))
    }

    @Test func theTokenFingerprintIsTheOneJustgateSitesPrints() {
        #expect(UpstreamTokenFingerprint.of("abc") == String(SiteKeys.sha256Hex("abc").prefix(12)))
        #expect(UpstreamTokenFingerprint.of("abc") == "ba7816bf8f01")
    }

    @Test func aHugeReloadIsCutToABoundedSentenceThatSaysHowMuchIsLeftOut() {
        let new = (0..<500).map { Self.site("site-\($0)", keys: ["k\($0)"], token: "t") }
        let sentence = ReloadChanges(old: [], new: new).sentence
        #expect(sentence.count <= ReloadChanges.maxSentenceLength)
        #expect(sentence.hasPrefix("sites added: site-0, site-1"))
        #expect(sentence.hasSuffix("more)"))
    }
}
