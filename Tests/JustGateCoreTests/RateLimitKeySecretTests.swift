import Crypto
import Testing

@testable import JustGateCore
import JustGateAuditReview

/// Per-user Redis keys under `rate_limit.key_secret`: an HMAC, not a SHA-256 prefix anyone can brute-force.
@Suite struct RateLimitKeySecretTests {
    static let phone = "79123456789"
    static let secret = Array("a-shared-secret-of-32-characters".utf8)

    static func check(_ value: String) -> QuotaCheck {
        let policy = CompiledPolicy(RateLimitPolicy(name: "sms", scope: .number, rate: RateLimitRate(count: 3, period: .hour)),
                                    siteID: "shop")
        return QuotaCheck(policy: policy, keyHash: 0, value: value)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func withASecretThePhonesKeyIsTheHMACNotTheSHA256Prefix() {
        let key = Self.check(Self.phone).redisKey(RateLimitKeyDigest(secret: Self.secret))
        let hmac = HMAC<SHA256>.authenticationCode(for: Array(Self.phone.utf8), using: SymmetricKey(data: Self.secret))
        let sha = SHA256.hash(data: Array(Self.phone.utf8))
        #expect(key == "justgate:rl:shop:sms:1200000000x3:" + Self.hex(Array(hmac).prefix(16)))
        #expect(!key.contains(Self.hex(Array(sha).prefix(12))))
        #expect(!key.contains(Self.phone))
    }

    @Test func withoutASecretTheKeyIsTheSHA256PrefixAsBefore() {
        let key = Self.check(Self.phone).redisKey(RateLimitKeyDigest(secret: nil))
        #expect(key == "justgate:rl:shop:sms:1200000000x3:" + Self.hex(Array(SHA256.hash(data: Array(Self.phone.utf8))).prefix(12)))
    }

    @Test func anotherSecretGivesAnotherKey() {
        let one = Self.check(Self.phone).redisKey(RateLimitKeyDigest(secret: Self.secret))
        let other = Self.check(Self.phone).redisKey(RateLimitKeyDigest(secret: Array("another-secret-of-enough-length".utf8)))
        #expect(one != other)
    }

    static func yaml(backend: String, secret: String = "", scope: String = "number") -> String {
        """
        listen: 127.0.0.1:8080
        upstream:
          url: https://api.justservices.cc
        sites:
          - id: horoscope-daily
            key_sha256: "\(ConfigFixtures.hashA)"
            upstream_token: { env: JUST_TOKEN_HOROSCOPE }
            limits:
              - { name: sms, scope: \(scope), operations: [subscribe.sms], rate: 3/h }
        rate_limit:
          backend: \(backend)
          redis_url: redis://127.0.0.1:6379/0
        \(secret)
        """
    }

    static func warnings(_ yaml: String) throws -> [ConfigProblem] {
        try ConfigLoader.load(yaml: yaml, knownOperations: ["subscribe.sms"], fileName: "justgate.yaml").get().warnings
    }

    @Test func redisWithPerUserPoliciesAndNoSecretIsWarnedAbout() throws {
        let warning = try #require(try Self.warnings(Self.yaml(backend: "redis")).first { $0.path == "rate_limit" })
        #expect(warning.message.contains("horoscope-daily/sms"))
        #expect(warning.message.contains("rate_limit.key_secret"))
    }

    @Test func noWarningWithASecretForMemoryOrWithoutPerUserPolicies() throws {
        #expect(try Self.warnings(Self.yaml(backend: "redis", secret: "  key_secret: { env: RL_SECRET }")).isEmpty)
        #expect(try Self.warnings(Self.yaml(backend: "memory")).isEmpty)
        #expect(try Self.warnings(Self.yaml(backend: "redis", scope: "site")).isEmpty)
    }

    @Test func theSecretIsReadFromEnvOrFileAndNeverInline() throws {
        let env = try ConfigLoader.load(yaml: Self.yaml(backend: "redis", secret: "  key_secret: { env: RL_SECRET }"),
                                        knownOperations: ["subscribe.sms"]).get()
        #expect(env.config.rateLimit.keySecret == .env("RL_SECRET"))
        let file = try ConfigLoader.load(yaml: Self.yaml(backend: "redis", secret: "  key_secret: { file: /run/rl.key }"),
                                         knownOperations: ["subscribe.sms"]).get()
        #expect(file.config.rateLimit.keySecret == .file("/run/rl.key"))
        guard case .failure(let errors) = ConfigLoader.load(yaml: Self.yaml(backend: "redis", secret: "  key_secret: { value: x }"),
                                                          knownOperations: ["subscribe.sms"]) else {
            Issue.record("an inline key_secret was accepted")
            return
        }
        #expect(errors.problems.contains { $0.path.hasPrefix("rate_limit.key_secret") })
    }

    @Test func aShortSecretIsRefusedNamingItsKey() {
        let environment = FixedEnvironment(values: ["RL_SECRET": "short"])
        guard case .failure(let errors) = AuditKeyResolver.resolve(.env("RL_SECRET"), environment: environment,
                                                                   path: "rate_limit.key_secret") else {
            Issue.record("a 5-character secret was accepted")
            return
        }
        #expect(errors.problems.first?.path == "rate_limit.key_secret")
    }
}

private struct FixedEnvironment: SecretEnvironment {
    var values: [String: String]
    func environmentValue(_ name: String) -> String? { values[name] }
    func fileContents(_ path: String) throws -> String { throw CocoaLikeError() }
}

private struct CocoaLikeError: Error {}
