#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import JustGateCore
import Testing

/// Every request that got no usable upstream answer says why, as one word of `UpstreamFailureReason`, in three
/// places an operator looks: the request log line (`reason`), the audit record (`reason`) and
/// `justgate_upstream_failures_total{site,operation,reason}`. Each reason is produced here for real, over
/// loopback, by an upstream that is down, hung, resetting, broken or refusing the gateway's token.
@Suite(.serialized) struct FailureReasonTests {
    static let read = "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b"
    /// One attempt, so each request makes exactly one call, and a breaker out of the way.
    static let oneAttempt = "  retries: { max_attempts: 1 }\n  circuit: { failures: 1000 }"

    func gateway(_ upstream: String, upstreamYAML: String = FailureReasonTests.oneAttempt,
                 timeoutMs: Int = 10_000) throws -> GatewayFixture {
        try GatewayFixture(upstream: upstream, extraYAML: "admin_listen: 127.0.0.1:0", upstreamYAML: upstreamYAML,
                           timeoutMs: timeoutMs)
    }

    /// The JSON line of `text` whose `request_id` is `id`, once it is there.
    static func line(in text: @escaping () -> String, id: String, message: String? = nil) -> [String: Any] {
        Polling.read(timeoutSeconds: 3, until: { !$0.isEmpty }) {
            text().split(separator: "\n").lazy.compactMap { line -> [String: Any]? in
                guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                      object["request_id"] as? String == id,
                      message == nil || object["message"] as? String == message else { return nil }
                return object
            }.first ?? [:]
        }
    }

    static func metric(_ gateway: GatewayFixture, _ name: String, _ labels: [String: String]) throws -> Double {
        let port = try #require(gateway.runtime.adminAddress?.port)
        return try Polling.read(timeoutSeconds: 3, until: { $0 > 0 }) {
            let text = (try? RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text) ?? ""
            return PrometheusText.sum((try? PrometheusText.parse(text)) ?? [], name, where: labels)
        }
    }

    /// The log line, the audit record and the metric of the request that got `response` all name `reason`.
    func expectReason(_ reason: String, outcome: String, _ gateway: GatewayFixture, _ response: RawHTTPClient.Response,
                      operation: String = "segments.get", sourceLocation: SourceLocation = #_sourceLocation) throws {
        let id = try #require(response.header("X-Request-Id"), sourceLocation: sourceLocation)
        let log = Self.line(in: gateway.logText, id: id, message: "request")
        #expect(log["reason"] as? String == reason, "\(log)", sourceLocation: sourceLocation)
        #expect(log["outcome"] as? String == outcome, "\(log)", sourceLocation: sourceLocation)
        let audit = Self.line(in: gateway.auditText, id: id)
        #expect(audit["reason"] as? String == reason, "\(audit)", sourceLocation: sourceLocation)
        #expect(audit["outcome"] as? String == outcome, "\(audit)", sourceLocation: sourceLocation)
        #expect(audit["site"] as? String == "horoscope-daily", sourceLocation: sourceLocation)
        let counted = try Self.metric(gateway, "justgate_upstream_failures_total",
                                      ["site": "horoscope-daily", "operation": operation, "reason": reason])
        #expect(counted == 1, sourceLocation: sourceLocation)
    }

    @Test func aRefusedConnectionIsConnectRefused() throws {
        let gateway = try gateway("http://127.0.0.1:\(try ClosedPort.make())")
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 502)
        try expectReason("connect_refused", outcome: "upstream_error", gateway, response)
    }

    @Test func aConnectThatNeverCompletesIsTimeoutBeforeSending() throws {
        // A listener that never accepts, with its accept queue filled: the gateway's SYN is dropped, so the
        // connect hangs and not one request byte is written before the deadline.
        let listener = try SilentListener(backlog: 0)
        var fillers: [Int32] = []
        defer { fillers.forEach { _ = close($0) } }
        for _ in 0..<4 { fillers.append(try SilentListener.connectWithoutWaiting(port: listener.port)) }
        usleep(100_000)
        let gateway = try gateway("http://127.0.0.1:\(listener.port)", timeoutMs: 500)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 504)
        try expectReason("timeout_before_sending", outcome: "upstream_timeout", gateway, response)
    }

    @Test func aHungUpstreamIsTimeoutAfterSending() throws {
        let upstream = try ScriptedUpstream(.silent)
        let gateway = try gateway(upstream.url, timeoutMs: 300)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 504)
        try expectReason("timeout_after_sending", outcome: "upstream_timeout", gateway, response)
    }

    @Test func aResetIsConnectionReset() throws {
        let upstream = try ScriptedUpstream(.reset)
        let gateway = try gateway(upstream.url)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 502)
        try expectReason("connection_reset", outcome: "upstream_error", gateway, response)
    }

    @Test func aCloseWithoutAnAnswerIsEmptyResponse() throws {
        let upstream = try ScriptedUpstream(.raw(""))
        let gateway = try gateway(upstream.url)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 502)
        try expectReason("empty_response", outcome: "upstream_error", gateway, response)
    }

    @Test func aCutShortAnswerIsIncompleteResponse() throws {
        let upstream = try ScriptedUpstream(.raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part"))
        let gateway = try gateway(upstream.url)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 502)
        try expectReason("incomplete_response", outcome: "upstream_error", gateway, response)
    }

    @Test func anAnswerThatIsNotHTTPIsProtocolError() throws {
        let upstream = try ScriptedUpstream(.raw("SSH-2.0-OpenSSH_9.6\r\n\r\n"))
        let gateway = try gateway(upstream.url)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 502)
        try expectReason("protocol_error", outcome: "upstream_error", gateway, response)
    }

    @Test func anAnswerOverTheLimitIsResponseTooLarge() throws {
        let upstream = try ScriptedUpstream(.answer(200, String(repeating: "x", count: 5000)))
        let gateway = try gateway(upstream.url, upstreamYAML: Self.oneAttempt + "\n  max_response_bytes: 1000")
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 502)
        try expectReason("response_too_large", outcome: "upstream_error", gateway, response)
    }

    @Test func aStatusOutsideHTTPsIsBadStatus() throws {
        let upstream = try ScriptedUpstream(.answer(999, "odd"))
        let gateway = try gateway(upstream.url)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 502)
        try expectReason("bad_status", outcome: "upstream_error", gateway, response)
    }

    @Test func anOpenCircuitIsCircuitOpen() throws {
        let gateway = try gateway("http://127.0.0.1:\(try ClosedPort.make())",
                                  upstreamYAML: "  retries: { max_attempts: 1 }\n  circuit: { failures: 1, open_ms: 60000 }")
        #expect(try gateway.send("GET", Self.read).status == 502)
        let refused = try gateway.send("GET", Self.read)
        #expect(refused.status == 503)
        #expect(refused.header("Retry-After") != nil)
        try expectReason("circuit_open", outcome: "upstream_error", gateway, refused)
    }

    @Test func pastMaxInFlightIsOverMaxInFlight() throws {
        let upstream = try ScriptedUpstream(.silent)
        let gateway = try gateway(upstream.url, upstreamYAML: Self.oneAttempt + "\n  max_in_flight: 1", timeoutMs: 3000)
        let waiting = try gateway.client()
        try waiting.send("GET \(Self.read) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
        #expect(upstream.waitForRequests(1) == 1)
        let refused = try gateway.send("GET", Self.read)
        #expect(refused.status == 503)
        try expectReason("over_max_in_flight", outcome: "upstream_error", gateway, refused)
    }

    @Test func anUpstream401IsRelayedAsItIsButLoggedAsAWarningWithItsOwnOutcome() throws {
        let upstream = try ScriptedUpstream(.answer(401, "{\"error\":\"bad token\"}"))
        let gateway = try gateway(upstream.url)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 401)
        #expect(response.text == "{\"error\":\"bad token\"}")
        try expectReason("upstream_auth_failed", outcome: "upstream_auth_failed", gateway, response)
        let id = try #require(response.header("X-Request-Id"))
        let log = Self.line(in: gateway.logText, id: id, message: "request")
        #expect(log["level"] as? String == "warning")
        #expect(log["upstream_status"] as? Int == 401)
        let forbidden = try ScriptedUpstream(.answer(403, "no"))
        let other = try self.gateway(forbidden.url)
        let refused = try other.send("GET", Self.read)
        #expect(refused.status == 403)
        try expectReason("upstream_auth_failed", outcome: "upstream_auth_failed", other, refused)
    }

    @Test func anAnsweredRequestHasNoReason() throws {
        let upstream = try ScriptedUpstream(.answer(200, "{}"))
        let gateway = try gateway(upstream.url)
        let response = try gateway.send("GET", Self.read)
        #expect(response.status == 200)
        let id = try #require(response.header("X-Request-Id"))
        let log = Self.line(in: gateway.logText, id: id, message: "request")
        #expect(log["outcome"] as? String == "forwarded" && log["reason"] == nil)
        let audit = Self.line(in: gateway.auditText, id: id)
        #expect(audit["outcome"] as? String == "forwarded")
        #expect(audit["reason"] is NSNull)
    }
}
