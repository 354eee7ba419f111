import Foundation
import JustGateCore
import Testing

/// The Redis backend against a real `redis-server` on loopback: gateways sharing one budget, and
/// each fallback while Redis is away and after it is back.
@Suite(.serialized)
struct RedisRateLimitTests {
    static let juid = "de6f0132ea9e412599ae31262c45633b"
    static let limits = """
        limits:
          - { name: site-hourly, scope: site, operations: [segments.get], rate: 2/h }
        """

    static func rateLimitYAML(_ redis: RedisServer, onError: String) -> String {
        """
        rate_limit:
          backend: redis
          redis_url: \(redis.url)
          redis_timeout_ms: 200
          on_backend_error: \(onError)
        """
    }

    func segments(_ port: Int, juid: String = RedisRateLimitTests.juid) throws -> Int {
        let client = try RawHTTPClient(port: port)
        return try client.exchange("GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\nHost: x\r\n"
            + "X-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n").status
    }

    /// A gateway whose sandbox knows a profile, so an admitted segments call is a plain 200.
    func gatewayWithProfile(onError: String, redis: RedisServer) throws -> (GatewayFixture, String) {
        let gateway = try GatewayFixture(extraYAML: Self.rateLimitYAML(redis, onError: onError), horoscopeYAML: Self.limits)
        let created = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                       contentType: "application/x-www-form-urlencoded", body: "ip=8.8.8.8")
        return (gateway, created.text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The ways the Redis limiter ends a request, each with one log line, one audit record and its count
    /// (`OneExitTests`): 499 for a client that left while Redis decided, 429, and 503 with Redis down under
    /// `on_backend_error: deny`.
    @Test func redisLimiterEndingsLeaveOnce() throws {
        let redis = try RedisServer()
        let gateway = try GatewayFixture(extraYAML: """
            admin_listen: 127.0.0.1:0
            rate_limit: { backend: redis, redis_url: "\(redis.url)", redis_timeout_ms: 4000, on_backend_error: deny }
            """, horoscopeYAML: Self.limits)
        let exits = OneExitTests()
        let target = "/api/user/v1/info/segment/?juid=\(Self.juid)"
        #expect(try gateway.send("GET", target).status != 429)  // the gateway's Redis connection is up

        // Redis holds every command for a while; the client leaves before it decides.
        _ = try redis.command("CLIENT PAUSE 1500 ALL")
        let leavingID = "redis-leaving-0001"
        do {
            let leaving = try gateway.client()
            try leaving.send("GET \(target) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n"
                + "X-Request-Id: \(leavingID)\r\n\r\n")
            usleep(300_000)
        }  // the client closes its connection here, while Redis is paused
        try exits.expectOneExit(gateway, id: leavingID, status: 499, outcome: "client_gone")

        // The two of 2/h are spent (the first request and the one whose client left): refused.
        let limited = try gateway.send("GET", target)
        #expect(limited.status == 429)
        try exits.expectOneExit(gateway, id: limited.header("X-Request-Id"), status: 429, outcome: "rate_limited")

        redis.stop()
        let denied = Polling.read(timeoutSeconds: 5, until: { $0?.status == 503 }) { () -> RawHTTPClient.Response? in
            try? gateway.send("GET", target)
        }
        #expect(denied?.status == 503)
        try exits.expectOneExit(gateway, id: denied?.header("X-Request-Id"), status: 503, outcome: "rate_limited")
        exits.expectTotalsAgree(gateway)
    }

    @Test func twoGatewayProcessesShareOneBudgetExactly() throws {
        let redis = try RedisServer()
        let config = NSTemporaryDirectory() + "justgate-redis-\(UUID().uuidString).yaml"
        try """
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            server: { workers: 2 }
            rate_limit: { backend: redis, redis_url: "\(redis.url)", redis_timeout_ms: 500, on_backend_error: deny }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey))"
                upstream_token: { env: TEST_TOKEN_HOROSCOPE }
                limits:
                  - { name: shared, scope: site, rate: 20/h }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: config) }
        let environment = ["TEST_TOKEN_HOROSCOPE": GatewayFixture.horoscopeToken]
        let cli = CommandLineTests()
        var first = try cli.startServe(config: config, environment: environment)
        var second = try cli.startServe(config: config, environment: environment)
        defer {
            _ = first.stop()
            _ = second.stop()
        }
        let ports = [try #require(first.port, "\(first.log)"), try #require(second.port, "\(second.log)")]
        var admitted = 0
        var refused = 0
        for index in 0..<60 {
            // Whatever the sandbox answers for an unknown juid, only 429 means refused.
            let status = try segments(ports[index % 2])
            if status == 429 { refused += 1 } else if status < 500 { admitted += 1 }
        }
        // 20 per hour with bursts of 20, between both gateways: exactly 20 in a few seconds.
        #expect(admitted == 20)
        #expect(refused == 40)
    }

    @Test func localFallbackCountsInMemoryAndRedisTakesOverAgain() throws {
        let redis = try RedisServer()
        let (gateway, juid) = try gatewayWithProfile(onError: "local", redis: redis)
        #expect(try (0..<3).map { _ in try segments(gateway.port, juid: juid) } == [200, 200, 429])
        redis.stop()
        // Memory starts afresh: the same budget, per node.
        #expect(try (0..<3).map { _ in try segments(gateway.port, juid: juid) } == [200, 200, 429])
        try redis.start()
        try awaitRedisInUse(gateway, redis, juid: juid)
        let log = gateway.logText(containing: "back on Redis")
        #expect(log.components(separatedBy: "Redis for rate limiting is unavailable").count == 2)
        #expect(log.components(separatedBy: "rate limiting is back on Redis").count == 2)
    }

    @Test func allowFallbackLetsTrafficThroughUntilRedisIsBack() throws {
        let redis = try RedisServer()
        let (gateway, juid) = try gatewayWithProfile(onError: "allow", redis: redis)
        #expect(try (0..<3).map { _ in try segments(gateway.port, juid: juid) } == [200, 200, 429])
        redis.stop()
        #expect(try (0..<6).map { _ in try segments(gateway.port, juid: juid) }.allSatisfy { $0 == 200 })
        try redis.start()
        try awaitRedisInUse(gateway, redis, juid: juid)
        // Counting again, in the new (empty) Redis: the budget runs out.
        var statuses: [Int] = []
        for _ in 0..<3 { statuses.append(try segments(gateway.port, juid: juid)) }
        #expect(statuses.contains(429))
    }

    @Test func denyFallbackAnswers503WithAProblemAndRecovers() throws {
        let redis = try RedisServer()
        let (gateway, juid) = try gatewayWithProfile(onError: "deny", redis: redis)
        #expect(try segments(gateway.port, juid: juid) == 200)
        redis.stop()
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(Self.juid)")
        #expect(response.status == 503)
        #expect(response.json?["type"] as? String == "urn:justgate:problem:unavailable")
        #expect(response.header("Retry-After") == "1")
        try redis.start()
        try awaitRedisInUse(gateway, redis, juid: juid)
    }

    @Test func aScriptRedisForgotIsSentAgainAndStillCounts() throws {
        let redis = try RedisServer()
        let (gateway, juid) = try gatewayWithProfile(onError: "deny", redis: redis)
        #expect(try segments(gateway.port, juid: juid) == 200)
        // SCRIPT FLUSH (or a failover to a replica without the script): EVALSHA answers NOSCRIPT.
        #expect(try redis.command("SCRIPT FLUSH") == "+OK")
        #expect(try segments(gateway.port, juid: juid) == 200)
        #expect(try segments(gateway.port, juid: juid) == 429)
    }

    /// A failover demotes the primary `redis_url` names: its scripts now answer `READONLY`. The operator is
    /// told what that means and what to do, and the gateway recovers when the server is a primary again.
    @Test func aPrimaryDemotedToAReplicaIsNamedAsSuchInTheLog() throws {
        let redis = try RedisServer()
        let (gateway, juid) = try gatewayWithProfile(onError: "deny", redis: redis)
        #expect(try segments(gateway.port, juid: juid) == 200)
        let nowhere = try FreePort.pick()
        #expect(try redis.command("REPLICAOF 127.0.0.1 \(nowhere)") == "+OK")
        #expect(try segments(gateway.port, juid: juid) == 503)
        let deadline = Date().addingTimeInterval(5)
        while !gateway.logText().contains("read-only replica"), Date() < deadline { usleep(50_000) }
        #expect(gateway.logText().contains("it is a read-only replica: point redis_url at the primary"),
                "\(gateway.logText().suffix(2000))")
        #expect(try redis.command("REPLICAOF NO ONE") == "+OK")
        #expect(try segments(gateway.port, juid: juid) == 200)
    }

    @Test func aRedisWithAPasswordAndAnotherDatabaseIsAuthenticatedAndSelected() throws {
        let redis = try RedisServer()
        #expect(try redis.command("CONFIG SET requirepass s3cret-pass") == "+OK")
        let yaml = """
            rate_limit:
              backend: redis
              redis_url: redis://:s3cret-pass@127.0.0.1:\(redis.port)/3
              redis_timeout_ms: 500
              on_backend_error: deny
            """
        let gateway = try GatewayFixture(extraYAML: yaml, horoscopeYAML: Self.limits)
        let created = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                       contentType: "application/x-www-form-urlencoded", body: "ip=8.8.8.8")
        let juid = created.text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try (0..<3).map { _ in try segments(gateway.port, juid: juid) } == [200, 200, 429])
        // The counts went to database 3.
        let client = try RawHTTPClient(port: redis.port)
        let reply = try client.exchangeRaw("AUTH s3cret-pass\r\nSELECT 3\r\nDBSIZE\r\n", until: ":1\r\n")
        #expect(reply.contains(":1\r\n"), "\(reply)")
        #expect(!gateway.logText().contains("s3cret-pass"))
    }

    @Test func aRedisThatDoesNotAnswerCostsAtMostTheTimeout() throws {
        let redis = try RedisServer()
        let (gateway, juid) = try gatewayWithProfile(onError: "allow", redis: redis)
        #expect(try segments(gateway.port, juid: juid) == 200)
        // A Redis busy in a script for 2 s: calls time out after 200 ms and fall back.
        let blocker = try ChildProcess("/usr/bin/redis-cli", [
            "-p", String(redis.port), "EVAL",
            "local t = tonumber(redis.call('TIME')[1]) + 2 while tonumber(redis.call('TIME')[1]) < t do end return 1", "0",
        ])
        defer { _ = blocker.wait() }
        usleep(200_000)
        let started = Date()
        #expect(try segments(gateway.port, juid: juid) == 200)
        #expect(Date().timeIntervalSince(started) < 1.5)
    }

    /// Sends requests until the gateway's counts show up in Redis (it reconnects with backoff).
    private func awaitRedisInUse(_ gateway: GatewayFixture, _ redis: RedisServer, juid: String) throws {
        let deadline = Date().addingTimeInterval(8)
        while Date() < deadline {
            _ = try segments(gateway.port, juid: juid)
            if let size = try? redis.command("DBSIZE"), size != ":0", size.hasPrefix(":") { return }
            usleep(100_000)
        }
        Issue.record("the gateway did not use Redis again within 8 s of its restart")
    }
}
