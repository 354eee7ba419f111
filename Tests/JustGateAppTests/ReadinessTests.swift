import Foundation
import JustGateCore
import Testing

/// `/readyz` means "send me traffic": 503 while this gateway drains or refuses every limited request for
/// want of Redis; 200 while it serves, whatever state a shared upstream is in (see AdminEndpointTests).
@Suite(.serialized)
struct ReadinessTests {
    let admin = AdminEndpointTests()

    func poll(_ gateway: GatewayFixture, until wanted: Int, seconds: Double = 5) throws -> RawHTTPClient.Response {
        let deadline = Date().addingTimeInterval(seconds)
        var last = try admin.admin(gateway, "GET", "/readyz")
        while last.status != wanted && Date() < deadline {
            usleep(20_000)
            last = try admin.admin(gateway, "GET", "/readyz")
        }
        return last
    }

    @Test func aDrainingGatewayIsNotReadyWhileItsAdminListenerStillAnswers() throws {
        let upstream = try CapturingUpstream(answerDelayMs: 1500)
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)",
                                         extraYAML: "admin_listen: 127.0.0.1:0\nshutdown: { grace_ms: 5000 }")
        #expect(try admin.admin(gateway, "GET", "/readyz").status == 200)
        let client = try RawHTTPClient(port: gateway.port, timeoutSeconds: 10)
        try client.send("GET /api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b HTTP/1.1\r\nHost: x\r\n"
                        + "X-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
        let sent = Date().addingTimeInterval(5)
        while upstream.requests.isEmpty && Date() < sent { usleep(10_000) }
        #expect(upstream.requests.count == 1)
        let runtime = gateway.runtime
        let stopper = Thread { runtime.stop() }
        stopper.start()
        let draining = try poll(gateway, until: 503)
        #expect(draining.status == 503)
        #expect(draining.text.contains("not ready: draining"), "\(draining.text)")
        // The request in flight still gets its answer.
        #expect(try client.readResponse().status == 200)
        let deadline = Date().addingTimeInterval(10)
        while !stopper.isFinished && Date() < deadline { usleep(10_000) }
        #expect(stopper.isFinished)
    }

    @Test func redisDownWithDenyIsNotReadyAndWithLocalIsReady() throws {
        let closed = try FreePort.pick()
        let deny = try GatewayFixture(extraYAML: """
            admin_listen: 127.0.0.1:0
            rate_limit: { backend: redis, redis_url: "redis://127.0.0.1:\(closed)/0", on_backend_error: deny }
            """, horoscopeYAML: "limits:\n  - { name: per-site, scope: site, rate: 100/s }")
        // The refusal shows once the loops have tried Redis; a request makes them try.
        _ = try deny.send("GET", "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b")
        let refused = try poll(deny, until: 503)
        #expect(refused.status == 503)
        #expect(refused.text.contains("not ready: Redis for rate limiting is down and rate_limit.on_backend_error is deny"),
                "\(refused.text)")

        let local = try GatewayFixture(extraYAML: """
            admin_listen: 127.0.0.1:0
            rate_limit: { backend: redis, redis_url: "redis://127.0.0.1:\(closed)/0", on_backend_error: local }
            """, horoscopeYAML: "limits:\n  - { name: per-site, scope: site, rate: 100/s }")
        _ = try local.send("GET", "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b")
        // Waits for the loops to have tried Redis and fallen back (the metric), not for a fixed time.
        let fallback = Polling.read(timeoutSeconds: 10, until: { $0 == 1 }) {
            (try? PrometheusText.sum(PrometheusText.parse(admin.admin(local, "GET", "/metrics").text),
                                     "justgate_rate_limit_fallback_active")) ?? 0
        }
        #expect(fallback == 1)
        #expect(try admin.admin(local, "GET", "/readyz").status == 200)
        // The fallback is on in both, and the metric says so; a memory limiter has it at 0 from the start.
        for gateway in [deny, local] {
            let samples = try PrometheusText.parse(try admin.admin(gateway, "GET", "/metrics").text)
            #expect(PrometheusText.sum(samples, "justgate_rate_limit_fallback_active") == 1)
        }
        let memory = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let samples = try PrometheusText.parse(try admin.admin(memory, "GET", "/metrics").text)
        #expect(samples.contains { $0.name == "justgate_rate_limit_fallback_active" })
        #expect(PrometheusText.sum(samples, "justgate_rate_limit_fallback_active") == 0)
    }
}
