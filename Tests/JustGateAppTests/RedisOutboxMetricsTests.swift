import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// `/metrics` with `outbox.backend: redis` (issue 25 item 8): depth, dead entries and oldest age per site,
/// Redis-wide, kept per site by the script (a few commands per site at each read, never a walk over every
/// entry); the per-site sets are rebuilt when data written by an older version lacks them.
@Suite(.serialized)
struct RedisOutboxMetricsTests {
    let cli = CommandLineTests()
    static let siteA = "horoscope-daily"
    static let siteB = "tarot-weekly"
    static let keyA = "redis-metrics-site-a-key-0123456789"
    static let keyB = "redis-metrics-site-b-key-0123456789"

    func config(upstream: String, redis: String, adminPort: Int) throws -> String {
        try cli.writeTemporary("""
            listen: 127.0.0.1:0
            admin_listen: 127.0.0.1:\(adminPort)
            server: { workers: 1 }
            upstream:
              url: "\(upstream)"
              timeout_ms: 1000
              connect_timeout_ms: 500
              retries: { max_attempts: 1 }
              circuit: { failures: 100000 }
            outbox: { backend: redis, redis_url: "\(redis)", retry_ms: [60000], lease_ms: 2500 }
            sites:
              - id: \(Self.siteA)
                key_sha256: "\(SiteKeys.sha256Hex(Self.keyA))"
                upstream_token: { env: JUSTGATE_REDIS_METRICS_TOKEN }
                defer: [subscribe.email]
              - id: \(Self.siteB)
                key_sha256: "\(SiteKeys.sha256Hex(Self.keyB))"
                upstream_token: { env: JUSTGATE_REDIS_METRICS_TOKEN }
                defer: [subscribe.email]
            """)
    }

    let environment = ["JUSTGATE_REDIS_METRICS_TOKEN": "redis-metrics-upstream-token"]

    /// A deferred subscribe for `juid` of the site whose key is `key`; its entry id.
    func deferSubscribe(_ port: Int, key: String, juid: Int) throws -> String {
        let body = "juid=\(String(format: "%032x", 0xdef000 + juid))&email=a%40example.com"
        let answer = try RawHTTPClient(port: port).exchange("""
            POST /api/user/v1/subscription/subscribe/email HTTP/1.1\r\nHost: localhost\r\nX-AUTH-TOKEN: \(key)\r
            Prefer: respond-async\r\nContent-Type: application/x-www-form-urlencoded\r
            Content-Length: \(body.utf8.count)\r\n\r\n\(body)
            """)
        #expect(answer.status == 202, "\(answer.status) \(answer.text)")
        let location = try #require(answer.header("Location"))
        return String(location.dropFirst(RequestDriver.deliveriesPrefix.count))
    }

    func admin(_ port: Int, _ method: String, _ path: String) throws -> RawHTTPClient.Response {
        try RawHTTPClient(port: port).exchange("\(method) \(path) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
    }

    /// The sample of `family` for `site`, or nil when the scrape has none.
    static func sample(_ metrics: String, _ family: String, _ site: String) -> Double? {
        let prefix = "\(family){site=\"\(site)\"} "
        return metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    /// Polls `/metrics` (refreshed from Redis every 5 s) until `isDone`, for up to 20 s.
    func metrics(_ adminPort: Int, until isDone: (String) -> Bool) -> String {
        Polling.read(timeoutSeconds: 20, until: isDone) { (try? admin(adminPort, "GET", "/metrics").text) ?? "" }
    }

    /// Site A: two calls waiting; site B: one waiting, one dead. Each site's depth, dead entries and oldest age
    /// are its own; once everything is delivered, neither site has a series (as with the file backend).
    @Test func depthDeadEntriesAndOldestAgeArePerSite() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(404, "User not found"))
        defer { upstream.stop() }
        let adminPort = try FreePort.pick()
        var gateway = try cli.startServe(config: config(upstream: upstream.url, redis: redis.url, adminPort: adminPort),
                                         environment: environment)
        defer { _ = gateway.stop() }
        let port = try #require(gateway.port, "\(gateway.log)")

        let deadID = try deferSubscribe(port, key: Self.keyB, juid: 1)
        let dead = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"dead\"") }) {
            (try? admin(adminPort, "GET", "/outbox/\(deadID)").text) ?? ""
        }
        #expect(dead.contains("\"state\":\"dead\""), "\(dead)")
        upstream.behaviour = .answer(503, "Error service")
        for juid in 2...3 { _ = try deferSubscribe(port, key: Self.keyA, juid: juid) }
        _ = try deferSubscribe(port, key: Self.keyB, juid: 4)

        let scrape = metrics(adminPort) { text in
            Self.sample(text, "justgate_outbox_depth", Self.siteA) == 2 && Self.sample(text, "justgate_outbox_depth", Self.siteB) == 1
                && Self.sample(text, "justgate_outbox_dead_entries", Self.siteB) == 1
                && (Self.sample(text, "justgate_outbox_oldest_age_seconds", Self.siteA) ?? 0) > 0
                && (Self.sample(text, "justgate_outbox_oldest_age_seconds", Self.siteB) ?? 0) > 0
        }
        #expect(Self.sample(scrape, "justgate_outbox_depth", Self.siteA) == 2, "\(scrape)")
        #expect(Self.sample(scrape, "justgate_outbox_dead_entries", Self.siteA) == 0, "\(scrape)")
        #expect(Self.sample(scrape, "justgate_outbox_depth", Self.siteB) == 1, "\(scrape)")
        #expect(Self.sample(scrape, "justgate_outbox_dead_entries", Self.siteB) == 1, "\(scrape)")
        #expect((Self.sample(scrape, "justgate_outbox_oldest_age_seconds", Self.siteA) ?? 0) > 0, "\(scrape)")
        #expect((Self.sample(scrape, "justgate_outbox_oldest_age_seconds", Self.siteB) ?? 0) > 0, "\(scrape)")
        #expect(!scrape.contains("site=\"*\""), "\(scrape)")

        // Dropping B's dead entry leaves B's pending one; A is untouched.
        #expect(try admin(adminPort, "DELETE", "/outbox/\(deadID)").status == 200)
        let dropped = metrics(adminPort) { Self.sample($0, "justgate_outbox_dead_entries", Self.siteB) == 0 }
        #expect(Self.sample(dropped, "justgate_outbox_dead_entries", Self.siteB) == 0, "\(dropped)")
        #expect(Self.sample(dropped, "justgate_outbox_depth", Self.siteB) == 1, "\(dropped)")
        #expect(Self.sample(dropped, "justgate_outbox_depth", Self.siteA) == 2, "\(dropped)")
        _ = gateway.stop()

        // The upstream is back and the waiting calls are made due now (their next attempt was a minute away):
        // a new gateway delivers them, and neither site has a series left.
        upstream.behaviour = .answer(200, "ok")
        #expect(try redis.command("EVAL \"for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do "
                                  + "redis.call('ZADD', KEYS[1], 0, m) end return 1\" 1 jg:ob:{jg-outbox}:due") == ":1")
        var second = try cli.startServe(config: config(upstream: upstream.url, redis: redis.url, adminPort: adminPort),
                                        environment: environment)
        defer { _ = second.stop() }
        let empty = metrics(adminPort) { !$0.contains("justgate_outbox_depth{") && $0.contains("justgate_outbox_bytes 0") }
        #expect(!empty.contains("justgate_outbox_depth{") && !empty.contains("justgate_outbox_dead_entries{"), "\(empty)")
        #expect(upstream.requestCount >= 4, "\(upstream.requestCount)")
    }

    /// Data written by a version without the per-site sets (only `pending`, `dead` and the entries): the first
    /// read of the readings rebuilds the sets, so every site shows at once after the upgrade.
    @Test func perSiteSetsAreRebuiltForOlderData() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(404, "User not found"))
        defer { upstream.stop() }
        let adminPort = try FreePort.pick()
        var first = try cli.startServe(config: config(upstream: upstream.url, redis: redis.url, adminPort: adminPort),
                                       environment: environment)
        let port = try #require(first.port, "\(first.log)")
        let deadID = try deferSubscribe(port, key: Self.keyA, juid: 1)
        let dead = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"dead\"") }) {
            (try? admin(adminPort, "GET", "/outbox/\(deadID)").text) ?? ""
        }
        #expect(dead.contains("\"state\":\"dead\""), "\(dead)")
        upstream.behaviour = .answer(503, "Error service")
        for juid in 2...3 { _ = try deferSubscribe(port, key: Self.keyB, juid: juid) }
        _ = first.stop()

        // What an older version leaves: no per-site sets.
        for key in ["ps:\(Self.siteA)", "ds:\(Self.siteA)", "ps:\(Self.siteB)", "ds:\(Self.siteB)", "sites", "rebuilt"] {
            try redis.command("DEL jg:ob:{jg-outbox}:\(key)")
        }
        #expect(try redis.command("EXISTS jg:ob:{jg-outbox}:sites") == ":0")

        var second = try cli.startServe(config: config(upstream: upstream.url, redis: redis.url, adminPort: adminPort),
                                        environment: environment)
        defer { _ = second.stop() }
        let scrape = metrics(adminPort) { text in
            Self.sample(text, "justgate_outbox_dead_entries", Self.siteA) == 1 && Self.sample(text, "justgate_outbox_depth", Self.siteB) == 2
        }
        #expect(Self.sample(scrape, "justgate_outbox_depth", Self.siteA) == 0, "\(scrape)")
        #expect(Self.sample(scrape, "justgate_outbox_dead_entries", Self.siteA) == 1, "\(scrape)")
        #expect(Self.sample(scrape, "justgate_outbox_depth", Self.siteB) == 2, "\(scrape)")
        #expect((Self.sample(scrape, "justgate_outbox_oldest_age_seconds", Self.siteB) ?? 0) > 0, "\(scrape)")
        #expect(try redis.command("ZCARD jg:ob:{jg-outbox}:ps:\(Self.siteB)") == ":2")
    }
}
