import Testing

@testable import JustGateCore

/// `rate_limit:` and site `limits:`: every bad-config case of the issue, each with its key path.
@Suite struct RateLimitConfigTests {
    static let operations: Set<String> = ["subscribe.sms", "profile.create", "segments.get"]

    static func yaml(limits: String, rateLimit: String = "") -> String {
        """
        listen: 127.0.0.1:8080
        upstream:
          url: https://api.justservices.cc
        sites:
          - id: horoscope-daily
            key_sha256: "\(ConfigFixtures.hashA)"
            upstream_token: { env: JUST_TOKEN_HOROSCOPE }
            limits:
        \(limits)
        \(rateLimit)
        """
    }

    static func load(_ yaml: String) -> Result<(config: GatewayConfig, warnings: [ConfigProblem]), ConfigErrors> {
        ConfigLoader.load(yaml: yaml, knownOperations: operations, fileName: "config/justgate.yaml")
    }

    @Test func theIssuesExampleLoads() throws {
        let yaml = Self.yaml(limits: """
                  - { name: site,            scope: site,   rate: 50/s, burst: 100 }
                  - { name: sms-per-number,  scope: number, operations: [subscribe.sms], rate: 3/h, burst: 3 }
                  - { name: profiles-per-ip, scope: ip,     operations: [profile.create], rate: 10/h, burst: 5 }
            """, rateLimit: """
            rate_limit:
              backend: redis
              redis_url: redis://:pa55@127.0.0.1:6379/2
              redis_timeout_ms: 5
              on_backend_error: deny
            """)
        let config = try Self.load(yaml).get().config
        let limits = config.sites[0].limits
        #expect(limits.map(\.name) == ["site", "sms-per-number", "profiles-per-ip"])
        #expect(limits[0].burst == 100 && limits[0].operations == nil && limits[0].scope == .site)
        #expect(limits[1].rate == RateLimitRate(count: 3, period: .hour))
        #expect(limits[2].operations == ["profile.create"])
        #expect(config.rateLimit.backend == .redis)
        #expect(config.rateLimit.onBackendError == .deny)
        #expect(config.rateLimit.redisTimeoutMs == 5)
        let endpoint = try RedisEndpoint.parse(try #require(config.rateLimit.redisURL)).get()
        #expect(endpoint.database == 2)
        #expect(endpoint.password?.reveal() == "pa55")
        #expect(endpoint.description == "redis://:<redacted>@127.0.0.1:6379/2")
    }

    @Test func aPerUserPolicyOnOperationsWithoutItsFieldIsWarnedAbout() throws {
        let none = try Self.load(Self.yaml(limits: """
                  - { name: numbers, scope: number, operations: [profile.create], rate: 3/h }
            """)).get().warnings
        let never = try #require(none.first { $0.message.contains("'numbers'") })
        #expect(never.path == "sites[0].limits[0].operations")
        #expect(never.message.contains("never limits a request") && never.message.contains("subscribe.sms"))

        let some = try Self.load(Self.yaml(limits: """
                  - { name: numbers, scope: number, operations: [subscribe.sms, profile.create], rate: 3/h }
            """)).get().warnings
        let partly = try #require(some.first { $0.message.contains("'numbers'") })
        #expect(partly.message.contains("profile.create carries no 'number' field"))
        #expect(!partly.message.contains("subscribe.sms"))

        let fine = try Self.load(Self.yaml(limits: """
                  - { name: site,            scope: site,   rate: 50/s }
                  - { name: sms-per-number,  scope: number, operations: [subscribe.sms], rate: 3/h }
                  - { name: profiles-per-ip, scope: ip,     operations: [profile.create], rate: 10/h }
                  - { name: any-number,      scope: number, rate: 10/h }
            """)).get().warnings
        #expect(fine.allSatisfy { !$0.message.contains("policy '") }, "\(fine.map(\.message))")
    }

    @Test func defaultsAreMemoryLocalAndAMillionKeys() throws {
        let config = try Self.load(Self.yaml(limits: "      - { name: all, scope: site, rate: 5/s }")).get().config
        #expect(config.rateLimit == RateLimitConfig())
        #expect(config.rateLimit.maxKeys == 1_000_000)
        #expect(config.sites[0].limits[0].burst == 5)
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var name: String
        var limits: String
        var rateLimit = ""
        var path: String
        var message: String
        var testDescription: String { name }
    }

    static let badCases: [BadCase] = [
        BadCase(name: "unknown scope", limits: "      - { name: a, scope: phone, rate: 1/s }",
                path: "sites[0].limits[0].scope", message: "'phone' is not one of: site, operation, ip, number, email, juid"),
        BadCase(name: "unknown period", limits: "      - { name: a, scope: site, rate: 5/x }",
                path: "sites[0].limits[0].rate", message: "'5/x' is not a rate; write N/s, N/m, N/h or N/d"),
        BadCase(name: "zero rate", limits: "      - { name: a, scope: site, rate: 0/s }",
                path: "sites[0].limits[0].rate", message: "admits nothing"),
        BadCase(name: "zero burst", limits: "      - { name: a, scope: site, rate: 1/s, burst: 0 }",
                path: "sites[0].limits[0].burst", message: "must be greater than 0, found 0"),
        BadCase(name: "unknown operation", limits: "      - { name: a, scope: site, operations: [subscribe.smss], rate: 1/s }",
                path: "sites[0].limits[0].operations[0]", message: "unknown operation 'subscribe.smss'"),
        BadCase(name: "duplicate name", limits: "      - { name: a, scope: site, rate: 1/s }\n      - { name: a, scope: ip, rate: 1/s }",
                path: "sites[0].limits[1].name", message: "duplicate policy name 'a'; sites[0].limits[0] already uses it"),
        BadCase(name: "missing rate", limits: "      - { name: a, scope: site }",
                path: "sites[0].limits[0]", message: "missing required key 'rate'"),
        BadCase(name: "unknown key in a policy", limits: "      - { name: a, scope: site, rate: 1/s, burts: 2 }",
                path: "sites[0].limits[0]", message: "unknown key 'burts'"),
        BadCase(name: "bad policy name", limits: "      - { name: \"Sms Per Number\", scope: site, rate: 1/s }",
                path: "sites[0].limits[0].name", message: "is not a valid policy name"),
        BadCase(name: "redis without url", limits: "      - { name: a, scope: site, rate: 1/s }",
                rateLimit: "rate_limit: { backend: redis }", path: "rate_limit", message: "backend redis needs redis_url"),
        BadCase(name: "bad redis url", limits: "      - { name: a, scope: site, rate: 1/s }",
                rateLimit: "rate_limit: { backend: redis, redis_url: \"http://x\" }", path: "rate_limit.redis_url",
                message: "is not a Redis URL"),
        BadCase(name: "unknown backend", limits: "      - { name: a, scope: site, rate: 1/s }",
                rateLimit: "rate_limit: { backend: memcached }", path: "rate_limit.backend", message: "is not one of: memory, redis"),
        BadCase(name: "unknown fallback", limits: "      - { name: a, scope: site, rate: 1/s }",
                rateLimit: "rate_limit: { on_backend_error: ignore }", path: "rate_limit.on_backend_error",
                message: "is not one of: local, allow, deny"),
    ]

    @Test(arguments: badCases)
    func badConfigNamesItsKeyPath(_ bad: BadCase) {
        let problems: [ConfigProblem]
        switch Self.load(Self.yaml(limits: bad.limits, rateLimit: bad.rateLimit)) {
        case .success: problems = []
        case .failure(let errors): problems = errors.problems
        }
        #expect(problems.contains { $0.path == bad.path && $0.message.contains(bad.message) },
                "\(problems.map { "\($0.path): \($0.message)" })")
    }

    @Test(arguments: [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://localhost", "redis://localhost:6379/0"),
        ("redis://user:pw@[::1]:7000/3", "redis://user:<redacted>@[::1]:7000/3"),
        ("unix:///run/redis/redis.sock", "unix:///run/redis/redis.sock"),
        ("unix:///run/redis.sock?db=4", "unix:///run/redis.sock?db=4"),
    ])
    func redisURLs(text: String, shown: String) throws {
        #expect(try RedisEndpoint.parse(text).get().description == shown)
    }

    @Test(arguments: ["http://127.0.0.1", "redis://:pw@", "redis://host:0", "redis://host:99999", "redis://host/x",
                      "unix://relative.sock", "unix:///a.sock?database=1"])
    func badRedisURLsAreRefused(text: String) {
        #expect(throws: RedisEndpointError.self) { try RedisEndpoint.parse(text).get() }
    }
}
