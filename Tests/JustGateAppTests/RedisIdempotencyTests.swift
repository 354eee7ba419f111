import Foundation
import JustGateCore
import JustGateReactor
import JustGateServer
import Logging
import Testing
@testable import JustGateApp

/// `idempotency.backend: redis` against a real `redis-server`: two gateways behind one imagined load
/// balancer, sharing one Redis and one upstream, see the same keys (issue 25, item 7).
@Suite(.serialized)
struct RedisIdempotencyTests {
    static let create = "/api/user/v1/subscription/create/profile"

    static func yaml(_ redisURL: String, timeoutMs: Int = 500) -> String {
        "idempotency: { backend: redis, redis_url: \"\(redisURL)\", redis_timeout_ms: \(timeoutMs) }"
    }

    /// One sandbox both gateways forward to, so its journal counts the profiles made between them.
    static func sharedSandbox() throws -> SandboxServer {
        let loopback = try #require(SocketAddress(host: "127.0.0.1", port: 0))
        return try SandboxServer(listen: loopback, tokens: [GatewayFixture.horoscopeToken, GatewayFixture.newsToken])
    }

    static func profilesCreated(_ sandbox: SandboxServer) -> Int {
        sandbox.api.receivedRequests().filter { $0.path.hasPrefix("/api/user/v1/subscription/create/profile") }.count
    }

    func post(_ gateway: GatewayFixture, _ body: String = "ip=8.8.8.8&name=Bob", key: String) throws -> RawHTTPClient.Response {
        try gateway.send("POST", Self.create, contentType: "application/x-www-form-urlencoded", body: body,
                         headers: ["Idempotency-Key: \(key)"])
    }

    /// A keyed `profile.create` as raw HTTP.
    static func request(key: String) -> String {
        let body = "ip=8.8.8.8&name=Bob"
        return "POST \(create) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n"
            + "Idempotency-Key: \(key)\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    /// `post` for threads: by port, so no fixture crosses threads.
    static func post(port: Int, key: String) throws -> RawHTTPClient.Response {
        try RawHTTPClient(port: port).exchange(request(key: key))
    }

    @Test func aKeySentToTwoGatewaysMakesOneProfileAndTheSecondGetsTheFirstAnswer() throws {
        let redis = try RedisServer()
        let sandbox = try Self.sharedSandbox()
        defer { sandbox.stop() }
        let first = try GatewayFixture(upstream: sandbox.baseURL, extraYAML: Self.yaml(redis.url))
        let second = try GatewayFixture(upstream: sandbox.baseURL, extraYAML: Self.yaml(redis.url))

        let created = try post(first, key: "order-7f3a")
        #expect(created.status == 200)
        let retried = try post(second, key: "order-7f3a")
        #expect(retried.status == 200)
        #expect(retried.text == created.text)
        #expect(retried.header("Idempotent-Replayed") == "true")
        #expect(Self.profilesCreated(sandbox) == 1)
        // And back on the first: still the one answer.
        #expect(try post(first, key: "order-7f3a").header("Idempotent-Replayed") == "true")

        // Other fields with the same key, on the other gateway: 422, nothing forwarded.
        let other = try post(second, "ip=8.8.4.4&name=Bob", key: "order-7f3a")
        #expect(other.status == 422)
        #expect(other.json?["type"] as? String == "urn:justgate:problem:idempotency-mismatch")
        // Keys are per site.
        #expect(try first.send("POST", Self.create, key: GatewayFixture.newsKey, contentType: "application/x-www-form-urlencoded",
                               body: "ip=8.8.8.8&name=Bob", headers: ["Idempotency-Key: order-7f3a"]).header("Idempotent-Replayed") == nil)
        #expect(Self.profilesCreated(sandbox) == 2)

        // Redis holds a digest per site, never the key as sent, with the TTL of `ttl_s` (600 s).
        let redisKey = IdempotencyRedisKey(secret: nil).redisKey(siteID: "horoscope-daily", key: "order-7f3a")
        #expect(try redis.command("EXISTS \(redisKey)") == ":1")
        #expect(try redis.command("KEYS *7f3a*") == "*0")
        let ttl = Int(try redis.command("PTTL \(redisKey)").dropFirst()) ?? 0
        #expect(ttl > 590_000 && ttl <= 600_000)
    }

    /// What Redis keeps is the answer as relayed: the upstream token it echoed is not in Redis, nor in the
    /// replay the other gateway sends.
    @Test func theStoredAnswerIsTheRedactedOne() throws {
        let redis = try RedisServer()
        let upstream = try CapturingUpstream(answer: { request in (200, "created for \(request.headers["x-auth-token"] ?? "")") })
        defer { upstream.stop() }
        let first = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)", extraYAML: Self.yaml(redis.url))
        let second = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)", extraYAML: Self.yaml(redis.url))
        #expect(try post(first, key: "echo").text == "created for [redacted]")
        let replay = try post(second, key: "echo")
        #expect(replay.text == "created for [redacted]")
        #expect(replay.header("Idempotent-Replayed") == "true")
        #expect(upstream.requests.count == 1)
        let redisKey = IdempotencyRedisKey(secret: nil).redisKey(siteID: "horoscope-daily", key: "echo")
        let stored = try RawHTTPClient(port: redis.port).exchangeRaw("HGET \(redisKey) a\r\n", until: "[redacted]")
        #expect(stored.contains("created for [redacted]"))
        #expect(!stored.contains(GatewayFixture.horoscopeToken))
    }

    @Test func concurrentRequestsWithOneKeyOnTwoGatewaysMakeOneProfile() throws {
        let redis = try RedisServer()
        let sandbox = try Self.sharedSandbox()
        defer { sandbox.stop() }
        let gateways = [try GatewayFixture(upstream: sandbox.baseURL, extraYAML: Self.yaml(redis.url)),
                        try GatewayFixture(upstream: sandbox.baseURL, extraYAML: Self.yaml(redis.url))]
        for round in 0..<5 {
            let key = "burst-\(round)"
            let responses = Collected()
            let ports = gateways.map(\.port)
            DispatchQueue.concurrentPerform(iterations: 8) { index in
                if let response = try? Self.post(port: ports[index % 2], key: key) { responses.append(response) }
            }
            let all = responses.all
            #expect(all.count == 8)
            let answered = all.filter { $0.status == 200 }
            #expect(all.allSatisfy { $0.status == 200 || $0.status == 409 }, "\(all.map(\.status))")
            #expect(answered.filter { $0.header("Idempotent-Replayed") == nil }.count == 1)
            #expect(Set(answered.map(\.text)).count == 1)
            #expect(Self.profilesCreated(sandbox) == round + 1)
        }
    }

    @Test func aDuplicateOnTheOtherGatewayWhileTheFirstIsInFlightIs409() throws {
        let redis = try RedisServer()
        let upstream = try ScriptedUpstream(.silent)
        let first = try GatewayFixture(upstream: upstream.url, extraYAML: Self.yaml(redis.url), timeoutMs: 2500)
        let second = try GatewayFixture(upstream: upstream.url, extraYAML: Self.yaml(redis.url), timeoutMs: 2500)
        let request = "POST \(Self.create) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n"
            + "Idempotency-Key: k-1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nip=8.8.8.8"
        let held = try first.client()
        try held.send(request)
        #expect(upstream.waitForRequests(1) == 1)
        let duplicate = try post(second, "ip=8.8.8.8", key: "k-1")
        #expect(duplicate.status == 409)
        #expect(duplicate.header("Retry-After") == "1")
        #expect(duplicate.json?["type"] as? String == "urn:justgate:problem:idempotency-conflict")
        #expect(try held.readResponse().status == 504)
        // The timeout left nothing to replay: the key is forgotten on every gateway, and the retry is sent.
        upstream.behaviour = .answer(200, "0123456789abcdef0123456789abcdef")
        #expect(try post(second, "ip=8.8.8.8", key: "k-1").status == 200)
        #expect(upstream.requestCount == 2)
        #expect(try post(first, "ip=8.8.8.8", key: "k-1").header("Idempotent-Replayed") == "true")
        #expect(upstream.requestCount == 2)
    }

    @Test func whileRedisIsDownAKeyedCreateIs503AndTheOutageIsLoggedOnceEachWay() throws {
        let redis = try RedisServer()
        let sandbox = try Self.sharedSandbox()
        defer { sandbox.stop() }
        let gateway = try GatewayFixture(upstream: sandbox.baseURL, extraYAML: Self.yaml(redis.url))
        #expect(try post(gateway, key: "before").status == 200)
        redis.stop()
        for index in 0..<4 {
            let refused = try post(gateway, key: "during-\(index)")
            #expect(refused.status == 503)
            #expect(refused.header("Retry-After") == "1")
            #expect(refused.json?["type"] as? String == "urn:justgate:problem:unavailable")
            #expect((refused.json?["detail"] as? String)?.contains("retry in a second with the same Idempotency-Key") == true)
        }
        #expect(Self.profilesCreated(sandbox) == 1)
        // Without a key nothing needs the store: forwarded as always.
        #expect(try gateway.send("POST", Self.create, contentType: "application/x-www-form-urlencoded",
                                 body: "ip=8.8.8.8").status == 200)
        try redis.start()
        let deadline = Date().addingTimeInterval(8)
        var status = 0
        while Date() < deadline {
            status = try post(gateway, key: "after").status
            if status == 200 { break }
            usleep(100_000)
        }
        #expect(status == 200)
        let log = gateway.logText(containing: "Idempotency-Key store is back on Redis")
        #expect(log.components(separatedBy: "Redis for Idempotency-Key is unavailable").count == 2)
        #expect(log.components(separatedBy: "Idempotency-Key store is back on Redis").count == 2)
    }

    @Test func aRedisWithAPasswordAndAnotherDatabaseIsUsedAndThePasswordIsNeverLogged() throws {
        let redis = try RedisServer()
        #expect(try redis.command("CONFIG SET requirepass s3cret-idem-pass") == "+OK")
        let url = "redis://:s3cret-idem-pass@127.0.0.1:\(redis.port)/3"
        // Each fixture has its own embedded sandbox, so the two reach the upstream by different base URLs:
        // still one request (the fingerprint leaves the upstream's host out).
        let first = try GatewayFixture(extraYAML: Self.yaml(url))
        let second = try GatewayFixture(extraYAML: Self.yaml(url))
        #expect(try post(first, key: "with-auth").status == 200)
        #expect(try post(second, key: "with-auth").header("Idempotent-Replayed") == "true")
        redis.stop()
        #expect(try post(first, key: "with-auth-2").status == 503)
        let log = first.logText(containing: "Redis for Idempotency-Key is unavailable")
        #expect(log.contains("redis://:<redacted>@127.0.0.1:\(redis.port)/3"))
        #expect(!log.contains("s3cret-idem-pass") && !second.logText().contains("s3cret-idem-pass"))
    }

    /// A client that leaves while its claim waits for Redis is not forwarded, and its key is given back, so
    /// its retry is forwarded (not answered 409 until the lease ends).
    @Test func aClientThatLeftWhileRedisWasSlowIsNotForwardedAndFreesItsKey() throws {
        let redis = try RedisServer()
        let sandbox = try Self.sharedSandbox()
        defer { sandbox.stop() }
        let gateway = try GatewayFixture(upstream: sandbox.baseURL, extraYAML: Self.yaml(redis.url, timeoutMs: 3000))
        #expect(try post(gateway, key: "warm").status == 200)
        // Paused long enough that a loaded machine has read the request and seen the client leave before Redis
        // answers, and shorter than the 3 s Redis timeout. (This test failed under parallel runs because a
        // child spawned by another suite inherited the client's socket, so closing it sent no FIN: now every
        // test socket is close-on-exec and `ChildProcess` passes no descriptor above 2.)
        #expect(try redis.command("CLIENT PAUSE 2500 ALL") == "+OK")
        do {
            let leaving = try gateway.client()
            try leaving.send(Self.request(key: "left"))
            // Gone only once the gateway has surely read the request.
            usleep(1_000_000)
            withExtendedLifetime(leaving) {}
        }
        usleep(1_800_000)
        let retried = try post(gateway, key: "left")
        #expect(retried.status == 200)
        #expect(retried.header("Idempotent-Replayed") == nil)
        #expect(Self.profilesCreated(sandbox) == 2)
        #expect(gateway.logText(containing: "client_gone").contains("client_gone"))
    }

    @Test func aScriptRedisForgotIsSentAgain() throws {
        let redis = try RedisServer()
        let sandbox = try Self.sharedSandbox()
        defer { sandbox.stop() }
        let gateway = try GatewayFixture(upstream: sandbox.baseURL, extraYAML: Self.yaml(redis.url))
        #expect(try post(gateway, key: "flush-1").status == 200)
        #expect(try redis.command("SCRIPT FLUSH") == "+OK")
        #expect(try post(gateway, key: "flush-1").header("Idempotent-Replayed") == "true")
        #expect(try post(gateway, key: "flush-2").status == 200)
        #expect(Self.profilesCreated(sandbox) == 2)
    }

    /// A Redis that answers a replay no honest Redis sends (a stored answer with a header break in its content
    /// type) is refused: 503, logged, nothing replayed, and the gateway keeps serving.
    @Test(arguments: [
        "*2\r\n:2\r\n$49\r\nJGI1 200 0 28\ntext/plain\r\nSet-Cookie: a=b1{\"x\":1}\r\n",
        "*1\r\n:9\r\n",
        ":1\r\n",
        "-ERR no\r\n",
        "*2\r\n:2\r\n$-1\r\n",
    ])
    func aHostileReplyIs503NeverAReplay(reply: String) throws {
        let redis = try ScriptedRedis { _ in reply }
        let gateway = try GatewayFixture(extraYAML: Self.yaml(redis.url))
        for _ in 0..<2 {
            let response = try post(gateway, key: "hostile")
            #expect(response.status == 503)
            #expect(response.header("Set-Cookie") == nil)
        }
        #expect(redis.evals >= 2)
        let log = gateway.logText(containing: "Redis for Idempotency-Key is unavailable")
        #expect(log.components(separatedBy: "Redis for Idempotency-Key is unavailable").count == 2)
        #expect(try gateway.send("GET", "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b").status < 500)
    }

    @Test(arguments: [
        ("https://api.justservices.cc/api/user/v1/subscription/create/profile?x=1", "/api/user/v1/subscription/create/profile?x=1"),
        ("http://127.0.0.1:40123/api/user/v1/x", "/api/user/v1/x"),
        ("http://[::1]:8080/a", "/a"),
        ("http://host", "/"),
        ("/already/a/path", "/already/a/path"),
    ])
    func theFingerprintLeavesTheUpstreamHostOut(url: String, expected: String) {
        #expect(IdempotencyGate.pathAndQuery(of: url) == expected[...])
    }

    @Test func checkConfigSaysWhereKeysLive() throws {
        let cli = CommandLineTests()
        let memory = try cli.run(["check-config", "--config", "config/justgate.yaml"])
        #expect(memory.stdout.contains("Idempotency-Key (profile.create): kept 600 s in memory, per gateway process"),
                "\(memory.stdout)")
        let path = try cli.writeTemporary("""
            listen: 127.0.0.1:8080
            upstream: { url: sandbox }
            idempotency: { backend: redis, redis_url: "redis://10.0.0.5:6379/2", ttl_s: 120 }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey))"
                upstream_token: { env: TEST_TOKEN_HOROSCOPE }
            """)
        let shared = try cli.run(["check-config", "--config", path], environment: ["TEST_TOKEN_HOROSCOPE": GatewayFixture.horoscopeToken])
        #expect(shared.status == 0, "\(shared.stderr)")
        #expect(shared.stdout.contains("Idempotency-Key (profile.create): kept 120 s in Redis at redis://10.0.0.5:6379/2, shared by every gateway"),
                "\(shared.stdout)")
        let missing = try cli.writeTemporary("""
            listen: 127.0.0.1:8080
            upstream: { url: sandbox }
            idempotency:
              backend: redis
            sites: []
            """)
        let refused = try cli.run(["check-config", "--config", missing])
        #expect(refused.status != 0)
        #expect((refused.stdout + refused.stderr).contains(":4:"), "\(refused.stdout)\(refused.stderr)")
        #expect((refused.stdout + refused.stderr).contains("backend redis needs redis_url"))
    }
}

/// Responses gathered from threads sending at once.
private final class Collected: @unchecked Sendable {
    // @unchecked: `responses` is only touched under `lock`.
    private let lock = NSLock()
    private var responses: [RawHTTPClient.Response] = []

    func append(_ response: RawHTTPClient.Response) { lock.withLock { responses.append(response) } }
    var all: [RawHTTPClient.Response] { lock.withLock { responses } }
}

/// The outage is one from the first loop down to the last loop back, whatever order the loops report in.
@Suite struct IdempotencyRedisHealthTests {
    /// A log handler that keeps the messages, to count the outage lines.
    struct Captured: LogHandler {
        let messages: CapturedMessages
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            messages.append(message.description)
        }
    }

    final class CapturedMessages: @unchecked Sendable {
        // @unchecked: `all` is only touched under `lock`.
        private let lock = NSLock()
        private var messages: [String] = []
        func append(_ message: String) { lock.withLock { messages.append(message) } }
        var all: [String] { lock.withLock { messages } }
    }

    final class Loop {}

    @Test func aLoopComingUpDuringAnotherLoopsOutageDoesNotEndIt() throws {
        let messages = CapturedMessages()
        let health = IdempotencyRedisHealth(logger: Logger(label: "test") { _ in Captured(messages: messages) },
                                            endpoint: try RedisEndpoint.parse("redis://127.0.0.1:6379/0").get())
        let (a, b) = (Loop(), Loop())
        health.report(ObjectIdentifier(a), down: true, reason: "refused reply")
        // b's first connection is set up now: the outage of a is not over.
        health.report(ObjectIdentifier(b), down: false, reason: nil)
        health.report(ObjectIdentifier(b), down: true, reason: "refused reply")
        health.report(ObjectIdentifier(a), down: false, reason: nil)
        #expect(messages.all.count == 1)
        health.report(ObjectIdentifier(b), down: false, reason: nil)
        #expect(messages.all.count == 2)
        #expect(messages.all.first?.hasPrefix("Redis for Idempotency-Key is unavailable") == true)
        #expect(messages.all.last == "Idempotency-Key store is back on Redis")
    }
}
