import Foundation
import JustGateCore
import Testing

/// A Redis (or anything on the plaintext Redis link) answering the limiter with out-of-range integers must
/// not kill the gateway: the reply counts as a backend error, `on_backend_error` applies, and the outage is
/// logged once. Before the fix, `now = Int64.max` trapped in `GCRALimit.decide` on the first limited request.
@Suite(.serialized)
struct RedisHostileReplyTests {
    static let limits = """
        limits:
          - { name: site-hourly, scope: site, operations: [segments.get], rate: 2/h }
        """

    func gateway(_ redis: ScriptedRedis, onError: String) throws -> GatewayFixture {
        try GatewayFixture(extraYAML: """
            rate_limit:
              backend: redis
              redis_url: \(redis.url)
              redis_timeout_ms: 500
              on_backend_error: \(onError)
            """, horoscopeYAML: Self.limits, workers: 1)
    }

    func segments(_ gateway: GatewayFixture) throws -> Int {
        try gateway.send("GET", "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b").status
    }

    /// `[now, stored…]` as RESP, with the same stored instant for every key.
    static func reply(now: String, stored: String) -> @Sendable (Int) -> String {
        { keys in "*\(keys + 1)\r\n:\(now)\r\n" + String(repeating: ":\(stored)\r\n", count: keys) }
    }

    @Test func nowOfInt64MaxFallsBackToLocalCountingAndIsLoggedOnce() throws {
        let redis = try ScriptedRedis(reply: Self.reply(now: "9223372036854775807", stored: "-1"))
        let gateway = try gateway(redis, onError: "local")
        // Counted in memory: the site's 2 per hour, then 429; the process is alive throughout.
        let statuses = try (0..<3).map { _ in try segments(gateway) }
        #expect(statuses.prefix(2).allSatisfy { $0 != 429 && $0 < 500 }, "\(statuses)")
        #expect(statuses[2] == 429)
        #expect(redis.evals >= 3, "the calls reached the fake Redis")
        let log = gateway.logText(containing: "implausible reply")
        #expect(log.components(separatedBy: "Redis for rate limiting is unavailable").count == 2, "\(log)")
        #expect(log.contains("now = 9223372036854775807"))
    }

    @Test func negativeNowWithAFarStoredInstantAnswers503UnderDeny() throws {
        let redis = try ScriptedRedis(reply: Self.reply(now: "-9223372036854775807", stored: "9200000000000000000"))
        let gateway = try gateway(redis, onError: "deny")
        for _ in 0..<3 {
            let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b")
            #expect(response.status == 503)
            #expect(response.json?["type"] as? String == "urn:justgate:problem:unavailable")
        }
        #expect(gateway.logText(containing: "implausible reply").contains("Redis for rate limiting is unavailable"))
    }

    @Test func aStoredInstantBeyondThePolicysReachFallsBackToAllow() throws {
        // A plausible now (2024) with an instant 9.2e18 µs ahead: the policy (2/h) can never have stored it.
        let redis = try ScriptedRedis(reply: Self.reply(now: "1700000000000000", stored: "9200000000000000000"))
        let gateway = try gateway(redis, onError: "allow")
        let statuses = try (0..<4).map { _ in try segments(gateway) }
        #expect(statuses.allSatisfy { $0 != 429 && $0 < 500 }, "\(statuses)")
        #expect(gateway.logText(containing: "implausible reply").contains("stored instant 1"))
    }
}
