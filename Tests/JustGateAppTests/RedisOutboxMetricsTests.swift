import Foundation
@testable import JustGateApp
import JustGateCore
import JustGateRedis
import Logging
import Testing

/// `/metrics` with `outbox.backend: redis` (issue 25 item 8): depth, dead entries and oldest age per site,
/// Redis-wide, kept per site by the script (a few commands per site at each read, never a walk over every
/// entry); the per-site sets are repaired, a slice at a time, when data written by an older version lacks them.
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
    /// read of the readings repairs the sets (a few entries: one slice), so every site shows at once after the
    /// upgrade.
    @Test func perSiteSetsAreRepairedForOlderData() throws {
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
        for key in ["ps:\(Self.siteA)", "ds:\(Self.siteA)", "ps:\(Self.siteB)", "ds:\(Self.siteB)", "sites", "rebuilt", "repair"] {
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

    /// The repair goes a slice at a time (here 2 ids a `stats` call, 5,000 in a gateway), never a walk over every
    /// entry in one script: several calls, each moving its cursor on, until every pending id is in its site's
    /// set and an id left in a site's set by an older gateway (delivered since) is out.
    @Test func theRepairGoesASliceAtATime() throws {
        let redis = try RedisServer()
        var config = OutboxConfig()
        config.backend = .redis
        config.redisURL = redis.url
        config.leaseMs = 60_000
        let harness = try RedisConnectionTests.Harness()
        let shared = try RedisOutboxShared(config, logger: Logger(label: "redis-outbox-repair-test"))
        let store = RedisOutboxStore(loop: harness.loop, shared: shared)
        var kept = 0
        for (number, site) in [Self.siteA, Self.siteA, Self.siteA, Self.siteA, Self.siteB, Self.siteB, Self.siteB].enumerated() {
            let call = DeferredCall(siteID: site, operationID: "subscribe.email", juid: String(format: "%032x", number),
                                    method: "POST", target: "/api/user/v1/subscription/subscribe/email",
                                    body: Array("juid=x".utf8), contentType: nil, requestID: "req-\(number)")
            store.keep(call) { if (try? $0.get()) != nil { kept += 1 } }
        }
        #expect(harness.run(atMostMs: 5000) { kept == 7 })
        // The store's own read (100 ms after it began, then every 5 s) has seen both sites: the next one is
        // seconds away, so the calls below are the only ones moving the repair on.
        #expect(harness.run(atMostMs: 8000) { shared.totals.withLock { $0.sites.count } == 2 })

        // What an older version leaves: no per-site sets, and one id of a call it delivered since.
        let stale = String(repeating: "f", count: 32)
        for key in ["ps:\(Self.siteA)", "ps:\(Self.siteB)", "sites", "rebuilt", "repair"] {
            try redis.command("DEL jg:ob:{jg-outbox}:\(key)")
        }
        #expect(try redis.command("ZADD jg:ob:{jg-outbox}:ps:\(Self.siteB) 1 \(stale)") == ":1")
        #expect(try redis.command("SADD jg:ob:{jg-outbox}:sites \(Self.siteB)") == ":1")

        var calls = 0
        var totals = RedisOutboxTotals()
        repeat {
            var reply: RESPValue??
            store.run(["stats", "2"]) { reply = .some($0) }
            #expect(harness.run(atMostMs: 3000) { reply != nil })
            guard case .array(let items?)?? = reply, let read = RedisOutboxTotals(items) else {
                Issue.record("stats answered \(String(describing: reply))")
                return
            }
            totals = read
            calls += 1
        } while try redis.command("EXISTS jg:ob:{jg-outbox}:repair") == ":1" && calls < 50
        #expect(calls >= 5, "7 pending ids and 2 sites' sets, 2 ids a call: \(calls) calls")
        #expect(totals.sites[Self.siteA]?.pending == 4 && totals.sites[Self.siteB]?.pending == 3, "\(totals.sites)")
        #expect(try redis.command("ZSCORE jg:ob:{jg-outbox}:ps:\(Self.siteB) \(stale)") == "$-1", "the stale id is still there")
    }
}
