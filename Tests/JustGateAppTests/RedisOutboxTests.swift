import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// `outbox.backend: redis` (issue 25 item 6) with the built `justgate` binary, a real `redis-server` and test
/// upstreams that fail on demand: calls deferred by one gateway are kept in Redis and delivered once the
/// upstream is back, in order per juid; two gateways on one Redis lose nothing when one is killed (SIGKILL)
/// while it holds entries mid-attempt; a full outbox and an unreachable Redis answer 503.
@Suite(.serialized)
struct RedisOutboxTests {
    let cli = CommandLineTests()
    static let siteKey = "redis-outbox-site-key-0123456789ab"
    static let token = "redis-outbox-upstream-token"
    /// More than the upstream's `timeout_ms` (1000) plus the 1000 ms margin `check-config` asks for.
    static let leaseMs = 2500

    func config(upstream: String, redis: String, maxBytes: Int = 1_048_576, adminPort: Int? = nil,
                leaseMs: Int = RedisOutboxTests.leaseMs, timeoutMs: Int = 1000, graceMs: Int = 10_000,
                retryMs: Int = 200) throws -> String {
        // No retries and no circuit: each delivery attempt is one request the upstream records.
        try cli.writeTemporary("""
            listen: 127.0.0.1:0
            \(adminPort.map { "admin_listen: 127.0.0.1:\($0)" } ?? "")
            server: { workers: 1 }
            shutdown: { grace_ms: \(graceMs) }
            upstream:
              url: "\(upstream)"
              timeout_ms: \(timeoutMs)
              connect_timeout_ms: 500
              retries: { max_attempts: 1 }
              circuit: { failures: 100000 }
            outbox: { backend: redis, redis_url: "\(redis)", retry_ms: [\(retryMs)], lease_ms: \(leaseMs), max_bytes: \(maxBytes) }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(Self.siteKey))"
                upstream_token: { env: JUSTGATE_REDIS_OUTBOX_TOKEN }
                defer: [subscribe.email, unsubscribe.email]
            """)
    }

    var environment: [String: String] { ["JUSTGATE_REDIS_OUTBOX_TOKEN": Self.token] }

    /// A gateway config for the admin endpoints on either backend (`redis` nil: the file outbox in `directory`):
    /// one loop, no retries, no circuit, retries 200 ms apart, horoscope-daily deferring subscribe.email, and
    /// `moreYAML` (top-level keys) and `moreSites` (site entries, indented as the first) added.
    func adminConfig(upstream: String, redis: RedisServer?, directory: URL, adminPort: Int, moreYAML: String = "",
                     moreSites: String = "") throws -> String {
        let outbox = if let redis {
            "outbox: { backend: redis, redis_url: \"\(redis.url)\", retry_ms: [200], lease_ms: \(Self.leaseMs) }"
        } else {
            "outbox: { path: \(directory.appendingPathComponent("outbox").path), retry_ms: [200] }"
        }
        return try cli.writeTemporary("""
            listen: 127.0.0.1:0
            admin_listen: 127.0.0.1:\(adminPort)
            server: { workers: 1 }
            upstream:
              url: "\(upstream)"
              timeout_ms: 1000
              connect_timeout_ms: 500
              retries: { max_attempts: 1 }
              circuit: { failures: 100000 }
            \(moreYAML)
            \(outbox)
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(Self.siteKey))"
                upstream_token: { env: JUSTGATE_REDIS_OUTBOX_TOKEN }
                defer: [subscribe.email]
            \(moreSites)
            """)
    }

    func send(_ port: Int, _ method: String, _ target: String, body: String = "",
              headers: [String] = []) throws -> RawHTTPClient.Response {
        var raw = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nX-AUTH-TOKEN: \(Self.siteKey)\r\n"
        for header in headers { raw += header + "\r\n" }
        if !body.isEmpty { raw += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n" }
        return try RawHTTPClient(port: port).exchange(raw + "\r\n" + body)
    }

    static func juid(_ number: Int) -> String { String(format: "%032x", 0xabc000 + number) }

    /// Subscribe, then unsubscribe, for `juid`: both deferred (the first by the upstream's 503, the second
    /// because the first waits); their `Location`s.
    func subscribeThenUnsubscribe(_ port: Int, _ juid: String) throws -> [String] {
        var locations: [String] = []
        for action in ["subscribe", "unsubscribe"] {
            let answer = try send(port, "POST", "/api/user/v1/subscription/\(action)/email",
                                  body: "juid=\(juid)&email=\(action)%40example.com")
            #expect(answer.status == 202, "\(action) \(juid): \(answer.status) \(answer.text)")
            locations.append(try #require(answer.header("Location")))
        }
        return locations
    }

    @Test func twoGatewaysOnOneRedisLoseNothingWhenOneIsKilledMidOutage() throws {
        let redis = try RedisServer()
        // One upstream per gateway, so the test knows which gateway sent what; both down at first.
        let upstreamA = try ScriptedUpstream(.answer(503, "Error service"))
        let upstreamB = try ScriptedUpstream(.answer(503, "Error service"))
        defer { upstreamA.stop(); upstreamB.stop() }
        var a = try cli.startServe(config: config(upstream: upstreamA.url, redis: redis.url), environment: environment)
        var b = try cli.startServe(config: config(upstream: upstreamB.url, redis: redis.url), environment: environment)
        defer { _ = b.stop() }
        var aStopped = false
        defer { if !aStopped { _ = a.stop() } }
        let portA = try #require(a.port, "\(a.log)")
        let portB = try #require(b.port, "\(b.log)")

        var locations: [String] = []
        let viaA = (1...4).map(Self.juid)
        let viaB = (5...6).map(Self.juid)
        for juid in viaA { locations += try subscribeThenUnsubscribe(portA, juid) }
        for juid in viaB { locations += try subscribeThenUnsubscribe(portB, juid) }
        // Every entry is in Redis: either gateway reads any of them.
        for location in locations {
            #expect(try send(portB, "GET", location).text.contains("\"state\":\"pending\""))
        }

        // A's upstream now hangs: A's next attempts stay under way, each holding its juid's lease.
        let before = upstreamA.requestCount
        upstreamA.behaviour = .silent
        let hung = upstreamA.waitForRequests(before + 1, timeoutSeconds: 10)
        #expect(hung > before, "gateway A made no attempt while its upstream hung")
        a.process.signal(SIGKILL)
        _ = a.process.wait()
        aStopped = true
        if a.removesDirectory { try? FileManager.default.removeItem(atPath: a.directory) }
        let heldByA = upstreamA.requests.dropFirst(before).filter { $0.contains("juid=") }
        #expect(!heldByA.isEmpty && heldByA.allSatisfy { $0.hasPrefix("POST /api/user/v1/subscription/subscribe/email") },
                "A only ever sends a juid's oldest entry: \(heldByA)")

        // The upstream is back: B delivers everything, A's keys once their leases end.
        let killedAt = Date()
        upstreamB.behaviour = .answer(200, "ok")
        for location in locations {
            let state = Polling.read(timeoutSeconds: 30, until: { $0.contains("\"state\":\"delivered\"") }) {
                (try? self.send(portB, "GET", location).text) ?? ""
            }
            #expect(state.contains("\"state\":\"delivered\"") && state.contains("\"upstream_status\":200"), "\(location): \(state)")
        }
        print("everything delivered \(Date().timeIntervalSince(killedAt)) s after the kill")
        for juid in viaA + viaB {
            // Order per juid: every subscribe B sent came before the unsubscribe, which was sent once.
            let paths = upstreamB.requests.filter { $0.contains("juid=\(juid)") }.map { String($0.prefix(60)) }
            let firstUnsubscribe = try #require(paths.firstIndex { $0.contains("/unsubscribe/") }, "\(juid): \(paths)")
            let lastSubscribeIndex = try #require(paths.lastIndex { $0.contains("/subscribe/") && !$0.contains("/unsubscribe/") },
                                                  "\(juid): \(paths)")
            #expect(lastSubscribeIndex < firstUnsubscribe, "\(juid): \(paths)")
            #expect(paths.filter { $0.contains("/unsubscribe/") }.count == 1, "\(juid): \(paths)")
        }
        let pending = try redis.command("ZCARD jg:ob:{jg-outbox}:pending")
        #expect(pending == ":0", "entries still pending in Redis: \(pending)")
        let bytes = try redis.command("GET jg:ob:{jg-outbox}:bytes")
        #expect(bytes == "$1", "accounted bytes not back to 0: \(bytes)")
    }

    /// Full at `max_bytes`: 503, never a silent drop; with room again (and the script forgotten), kept.
    @Test func aFullOutboxAnswers503() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(503, "Error service"))
        defer { upstream.stop() }
        var gateway = try cli.startServe(config: config(upstream: upstream.url, redis: redis.url, maxBytes: 65_536),
                                         environment: environment)
        defer { _ = gateway.stop() }
        let port = try #require(gateway.port, "\(gateway.log)")
        try redis.command("SET jg:ob:{jg-outbox}:bytes 65500")
        let refused = try send(port, "POST", "/api/user/v1/subscription/subscribe/email",
                               body: "juid=\(Self.juid(1))&email=a%40example.com", headers: ["Prefer: respond-async"])
        #expect(refused.status == 503 && refused.text.contains("the outbox is full"), "\(refused.status) \(refused.text)")
        try redis.command("SET jg:ob:{jg-outbox}:bytes 0")
        // Redis forgot the script (a restart, a failover): the call is sent again with the script itself.
        #expect(try redis.command("SCRIPT FLUSH") == "+OK")
        let kept = try send(port, "POST", "/api/user/v1/subscription/subscribe/email",
                            body: "juid=\(Self.juid(1))&email=a%40example.com", headers: ["Prefer: respond-async"])
        #expect(kept.status == 202, "\(kept.status) \(kept.text)")
    }

    @Test func redisDownAnswers503AndIsLoggedOnceEachWay() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(200, "ok"))
        defer { upstream.stop() }
        var gateway = try cli.startServe(config: config(upstream: upstream.url, redis: redis.url), environment: environment)
        let port = try #require(gateway.port, "\(gateway.log)")
        redis.stop()
        for _ in 0..<3 {
            let refused = try send(port, "POST", "/api/user/v1/subscription/subscribe/email",
                                   body: "juid=\(Self.juid(2))&email=a%40example.com", headers: ["Prefer: respond-async"])
            #expect(refused.status == 503 && refused.text.contains("Redis for the outbox is unavailable"),
                    "\(refused.status) \(refused.text)")
        }
        // Without Prefer: whether an earlier call of this juid waits cannot be known, so it is not forwarded.
        let unknown = try send(port, "POST", "/api/user/v1/subscription/subscribe/email",
                               body: "juid=\(Self.juid(2))&email=a%40example.com")
        #expect(unknown.status == 503 && upstream.requestCount == 0, "\(unknown.status) \(unknown.text)")
        try redis.start()
        let kept = Polling.read(timeoutSeconds: 10, until: { $0.hasPrefix("202") }) {
            let answer = try? self.send(port, "POST", "/api/user/v1/subscription/subscribe/email",
                                        body: "juid=\(Self.juid(2))&email=a%40example.com", headers: ["Prefer: respond-async"])
            return answer.map { "\($0.status) \($0.text)" } ?? ""
        }
        #expect(kept.hasPrefix("202"), "\(kept)")
        #expect(upstream.waitForRequests(1, timeoutSeconds: 10) >= 1)
        _ = gateway.stop()
        #expect(gateway.log.components(separatedBy: "Redis for the outbox is unavailable").count == 2, "\(gateway.log)")
        #expect(gateway.log.components(separatedBy: "the outbox is back on Redis").count == 2, "\(gateway.log)")
    }

    /// The admin endpoints read and change the shared outbox: a call the upstream refuses goes dead, is listed,
    /// retried by an operator and delivered; a dropped one is gone.
    @Test func anOperatorListsRetriesAndDropsOnRedis() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.answer(404, "User not found"))
        defer { upstream.stop() }
        let adminPort = try FreePort.pick()
        var gateway = try cli.startServe(config: config(upstream: upstream.url, redis: redis.url, adminPort: adminPort),
                                         environment: environment)
        defer { _ = gateway.stop() }
        let port = try #require(gateway.port, "\(gateway.log)")
        var ids: [String] = []
        for number in 1...2 {
            let accepted = try send(port, "POST", "/api/user/v1/subscription/subscribe/email",
                                    body: "juid=\(Self.juid(number))&email=a%40example.com", headers: ["Prefer: respond-async"])
            #expect(accepted.status == 202, "\(accepted.text)")
            let location = try #require(accepted.header("Location"))
            let dead = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"dead\"") }) {
                (try? self.send(port, "GET", location).text) ?? ""
            }
            #expect(dead.contains("\"upstream_status\":404") && dead.contains("User not found"), "\(dead)")
            ids.append(String(location.dropFirst(RequestDriver.deliveriesPrefix.count)))
        }
        func admin(_ method: String, _ path: String) throws -> RawHTTPClient.Response {
            try RawHTTPClient(port: adminPort).exchange("\(method) \(path) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        }
        let listed = try admin("GET", "/outbox?state=dead")
        #expect(listed.status == 200 && ids.allSatisfy { listed.text.contains($0) } && !listed.text.contains("a%40example"),
                "\(listed.text)")
        #expect(try admin("POST", "/outbox/\(ids[0])/retry").status == 200)
        #expect(try admin("POST", "/outbox/\(ids[0])/retry").status == 409)
        upstream.behaviour = .answer(200, "ok")
        let delivered = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"delivered\"") }) {
            (try? admin("GET", "/outbox/\(ids[0])").text) ?? ""
        }
        #expect(delivered.contains("\"attempts\":2") && delivered.contains("\"upstream_status\":200"), "\(delivered)")
        // A delivered entry is remembered without its body (the user's address); a dead one keeps it for a retry.
        func holdsAddress(_ id: String) throws -> String {
            try redis.command("EVAL \"return string.find(redis.call('HGET', KEYS[1], 'r'), 'example') and 1 or 0\" 1 "
                              + "jg:ob:{jg-outbox}:e:\(id)")
        }
        #expect(try holdsAddress(ids[0]) == ":0" && holdsAddress(ids[1]) == ":1")
        #expect(try admin("DELETE", "/outbox/\(ids[1])").status == 200)
        #expect(try admin("GET", "/outbox/\(ids[1])").status == 404)
        #expect(try admin("GET", "/outbox?state=dead").text == "{\"entries\":[]}")
        #expect(try redis.command("GET jg:ob:{jg-outbox}:bytes") == "$1")
        let metrics = try admin("GET", "/metrics").text
        #expect(metrics.contains("justgate_outbox_delivered_total{site=\"horoscope-daily\"} 1"), "\(metrics)")
        // The Redis-wide readings per site, refreshed every 5 s: one pending call a while old shows its age.
        upstream.behaviour = .answer(503, "Error service")
        let waiting = try send(port, "POST", "/api/user/v1/subscription/subscribe/email",
                               body: "juid=\(Self.juid(3))&email=a%40example.com", headers: ["Prefer: respond-async"])
        #expect(waiting.status == 202)
        let depth = "justgate_outbox_depth{site=\"horoscope-daily\"} 1"
        let fresh = "justgate_outbox_oldest_age_seconds{site=\"horoscope-daily\"} 0.0"
        let aged = Polling.read(timeoutSeconds: 15, until: { $0.contains(depth) && !$0.contains(fresh) }) {
            (try? admin("GET", "/metrics").text) ?? ""
        }
        #expect(aged.contains(depth) && !aged.contains(fresh), "\(aged)")
    }

    /// A slow attempt keeps its key: the lease is renewed every third of `lease_ms` while it runs, so the
    /// other gateway never sends the same entry meanwhile (nor, after it, the juid's next call). (`lease_ms`
    /// must exceed the upstream's timeout plus 1000 ms, so an attempt never outlasts one lease.)
    @Test func aSlowAttemptKeepsItsLease() throws {
        let redis = try RedisServer()
        let slow = try ScriptedUpstream(.delayed(2500, 200, "ok"))
        let quick = try ScriptedUpstream(.answer(503, "Error service"))
        defer { slow.stop(); quick.stop() }
        var a = try cli.startServe(config: config(upstream: slow.url, redis: redis.url, leaseMs: 4100, timeoutMs: 3000),
                                   environment: environment)
        defer { _ = a.stop() }
        let portA = try #require(a.port, "\(a.log)")
        let accepted = try send(portA, "POST", "/api/user/v1/subscription/subscribe/email",
                                body: "juid=\(Self.juid(7))&email=a%40example.com", headers: ["Prefer: respond-async"])
        #expect(accepted.status == 202, "\(accepted.text)")
        let location = try #require(accepted.header("Location"))
        #expect(slow.waitForRequests(1, timeoutSeconds: 5) == 1)
        // B starts while A's attempt is under way.
        var b = try cli.startServe(config: config(upstream: quick.url, redis: redis.url, leaseMs: 4100), environment: environment)
        defer { _ = b.stop() }
        let portB = try #require(b.port, "\(b.log)")
        let state = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"delivered\"") }) {
            (try? self.send(portB, "GET", location).text) ?? ""
        }
        #expect(state.contains("\"state\":\"delivered\"") && state.contains("\"attempts\":1"), "\(state)")
        #expect(quick.requestCount == 0 && slow.requestCount == 1, "B sent \(quick.requestCount), A \(slow.requestCount)")
    }
}
