import Testing

@testable import JustGateCore

/// `idempotency.backend` and `redis_url`: read, defaulted, and every wrong value named with its key path and line.
@Suite struct IdempotencyBackendConfigTests {
    static func yaml(_ section: String) -> String { ConfigFixtures.minimal + section + "\n" }

    @Test func theDefaultIsMemory() throws {
        let config = try #require(ConfigFixtures.config(ConfigFixtures.minimal)).config
        #expect(config.idempotency.backend == .memory)
        #expect(config.idempotency.redisURL == nil)
        #expect(config.idempotency.redisTimeoutMs == 50)
    }

    @Test func aRedisBackendIsRead() throws {
        let config = try #require(ConfigFixtures.config(Self.yaml("""
            idempotency: { backend: redis, redis_url: "redis://10.0.0.5:6379/2", redis_timeout_ms: 80, ttl_s: 30 }
            """))).config
        #expect(config.idempotency.backend == .redis)
        #expect(config.idempotency.redisURL == "redis://10.0.0.5:6379/2")
        #expect(config.idempotency.redisTimeoutMs == 80)
        #expect(config.idempotency.ttlSeconds == 30)
    }

    @Test(arguments: [
        ("idempotency: { backend: redis }", "idempotency", "backend redis needs redis_url"),
        ("idempotency: { backend: memcached }", "idempotency.backend", "'memcached' is not one of: memory, redis"),
        ("idempotency: { backend: redis, redis_url: \"http://x\" }", "idempotency.redis_url", "is not a Redis URL"),
        ("idempotency: { redis_timeout_ms: 0 }", "idempotency.redis_timeout_ms", "must be greater than 0"),
        ("idempotency: { backend: redis, redis_ur: \"redis://x\" }", "idempotency", "unknown key 'redis_ur'"),
    ])
    func wrongValuesAreNamedWithTheirLine(section: String, path: String, message: String) {
        let problems = ConfigFixtures.problems(Self.yaml(section))
        let lastLine = Self.yaml(section).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(problems.contains { $0.path == path && $0.message.contains(message) && $0.line == lastLine },
                "\(problems.map { "\($0.line ?? 0) \($0.path): \($0.message)" })")
    }
}

/// The Redis key of an `Idempotency-Key`: per site, digested, never the raw key.
@Suite struct IdempotencyRedisKeyTests {
    @Test func theKeyIsNamespacedPerSiteAndDigested() {
        let key = IdempotencyRedisKey(secret: nil).redisKey(siteID: "horoscope-daily", key: "signup-+79161234567")
        #expect(key.hasPrefix("justgate:idem:horoscope-daily:"))
        let digest = key.dropFirst("justgate:idem:horoscope-daily:".count)
        #expect(digest.count == 64 && digest.allSatisfy(\.isHexDigit))
        #expect(!key.contains("7916"))
        // The plain digest is SHA-256 of site, NUL, key.
        var message = Array("horoscope-daily".utf8)
        message.append(0)
        message.append(contentsOf: "signup-+79161234567".utf8)
        #expect(String(digest) == SiteKeyHex.encode(message.withUnsafeBytes { SHA256State.digest(of: $0) }.withBytes { Array($0) }))
    }

    @Test func sitesAndSecretsSeparateKeys() {
        let plain = IdempotencyRedisKey(secret: nil)
        let keyed = IdempotencyRedisKey(secret: Array("a-shared-secret-of-16+".utf8))
        let other = IdempotencyRedisKey(secret: Array("another-secret-of-16+".utf8))
        #expect(plain.redisKey(siteID: "a", key: "k") != plain.redisKey(siteID: "b", key: "k"))
        // (site "a", key "bc") and (site "ab", key "c") are different bytes to digest.
        #expect(plain.redisKey(siteID: "a", key: "bc").split(separator: ":").last
                != plain.redisKey(siteID: "ab", key: "c").split(separator: ":").last)
        #expect(keyed.redisKey(siteID: "a", key: "k") != plain.redisKey(siteID: "a", key: "k"))
        #expect(keyed.redisKey(siteID: "a", key: "k") != other.redisKey(siteID: "a", key: "k"))
        #expect(keyed.redisKey(siteID: "a", key: "k") == IdempotencyRedisKey(secret: Array("a-shared-secret-of-16+".utf8)).redisKey(siteID: "a", key: "k"))
    }
}
