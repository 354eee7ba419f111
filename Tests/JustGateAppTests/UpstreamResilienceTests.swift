#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import JustGateCore
import Testing

/// Retries, deadlines, the circuit breaker and the in-flight limit against real upstreams on
/// loopback that are down, slow, resetting or answering 5xx. Every claim about "how often the
/// gateway called" is counted at the upstream.
@Suite(.serialized) struct UpstreamResilienceTests {
    static let juid = "de6f0132ea9e412599ae31262c45633b"
    static let read = "/api/user/v1/info/segment/?juid=\(juid)"
    static let create = "/api/user/v1/subscription/create/profile"
    /// Fast backoff and a breaker that stays out of the way, unless a test says otherwise.
    static let quickRetries = "  retries: { max_attempts: 3, base_delay_ms: 1, max_delay_ms: 5 }\n  circuit: { failures: 1000 }"

    func post(_ gateway: GatewayFixture, _ body: String = "ip=8.8.8.8&name=Bob", headers: [String] = [],
              key: String = GatewayFixture.horoscopeKey) throws -> RawHTTPClient.Response {
        try gateway.send("POST", Self.create, key: key, contentType: "application/x-www-form-urlencoded", body: body,
                         headers: headers)
    }

    /// The request log lines so far, once there are at least `count`.
    func requestLines(_ gateway: GatewayFixture, atLeast count: Int) -> [[String: Any]] {
        Polling.read(timeoutSeconds: 3, until: { $0.count >= count }) {
            gateway.logText().split(separator: "\n").compactMap { line -> [String: Any]? in
                guard line.contains("\"message\":\"request\"") else { return nil }
                return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
            }
        }
    }

    /// The log line of the request that got `response` (lines of different loops may be written
    /// in any order, so they are matched by request id), once it is there.
    func line(_ gateway: GatewayFixture, of response: RawHTTPClient.Response) -> [String: Any] {
        guard let id = response.header("X-Request-Id") else { return [:] }
        return Polling.read(timeoutSeconds: 3, until: { $0 != nil }) {
            requestLines(gateway, atLeast: 0).first { $0["request_id"] as? String == id }
        } ?? [:]
    }

    func attempts(_ gateway: GatewayFixture, _ response: RawHTTPClient.Response) -> Int? {
        line(gateway, of: response)["attempts"] as? Int
    }

    // MARK: - Down, resetting, 5xx, slow

    @Test func aRefusedConnectionIsRetriedForReadsAndWritesAlike() throws {
        let port = try ClosedPort.make()
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(port)", upstreamYAML: Self.quickRetries)
        let read = try gateway.send("GET", Self.read)
        #expect(read.status == 502)
        #expect(read.header("Content-Type") == "application/problem+json")
        #expect(read.text.contains("after 3 attempts"))
        // Refused means never sent: even a profile.create is safe to try again.
        let write = try post(gateway)
        #expect(write.status == 502)
        #expect(attempts(gateway, read) == 3 && attempts(gateway, write) == 3)
        #expect(line(gateway, of: write)["outcome"] as? String == "upstream_error")
    }

    @Test func aResetAfterSendingIsRetriedOnlyForReads() throws {
        let upstream = try ScriptedUpstream(.reset)
        let gateway = try GatewayFixture(upstream: upstream.url, upstreamYAML: Self.quickRetries)
        let read = try gateway.send("GET", Self.read)
        #expect(read.status == 502)
        #expect(upstream.requestCount == 3)
        // The POST reached the upstream before the reset: it may have created a profile, so
        // it is never sent again.
        let write = try post(gateway)
        #expect(write.status == 502)
        #expect(write.text.contains("may have been carried out"))
        #expect(upstream.requestCount == 4)
        #expect(attempts(gateway, read) == 3 && attempts(gateway, write) == 1)
    }

    @Test func gatewayStatusesAreRetriedOnlyForReadsAndOtherErrorsNever() throws {
        let upstream = try ScriptedUpstream(.answer(503, "Error service"))
        let gateway = try GatewayFixture(upstream: upstream.url, upstreamYAML: Self.quickRetries)
        let read = try gateway.send("GET", Self.read)
        #expect(read.status == 503)
        #expect(read.text == "Error service")  // the upstream's own last answer, relayed
        #expect(upstream.requestCount == 3)
        let write = try post(gateway)
        #expect(write.status == 503)
        #expect(upstream.requestCount == 4)
        upstream.behaviour = .answer(500, "boom")
        #expect(try gateway.send("GET", Self.read).status == 500)
        #expect(upstream.requestCount == 5)
        upstream.behaviour = .answer(502, "bad")
        #expect(try gateway.send("GET", "/api/user/v1/stat/get-count-refid/email?startDate=1700000000&endDate=1700086400").status == 502)
        #expect(upstream.requestCount == 8)
    }

    @Test func aSlowUpstreamGets504AndRetriesStayInsideTheDeadline() throws {
        let upstream = try ScriptedUpstream(.silent)
        // 1000 ms for the whole request, 600 ms per attempt: the second attempt only gets what is
        // left (about 400 ms), and there is no time for a third (per-attempt limits alone would
        // have made three attempts and taken 1.8 s).
        let gateway = try GatewayFixture(
            upstream: upstream.url,
            upstreamYAML: "  retries: { max_attempts: 3, base_delay_ms: 1, max_delay_ms: 5, attempt_timeout_ms: 600 }",
            timeoutMs: 1000)
        let started = Date()
        let read = try gateway.send("GET", Self.read)
        let elapsed = Date().timeIntervalSince(started)
        #expect(read.status == 504)
        #expect(upstream.requestCount == 2)
        #expect(elapsed >= 0.95)
        let write = try post(gateway)
        #expect(write.status == 504)
        #expect(upstream.waitForRequests(3) == 3)
        usleep(100_000)
        #expect(upstream.requestCount == 3)
        #expect(attempts(gateway, read) == 2 && attempts(gateway, write) == 1)
        #expect(line(gateway, of: read)["outcome"] as? String == "upstream_timeout")
        #expect(line(gateway, of: write)["outcome"] as? String == "upstream_timeout")
    }

    @Test func anOperationsTimeoutOverridesTheUpstreamOne() throws {
        let upstream = try ScriptedUpstream(.silent)
        let gateway = try GatewayFixture(
            upstream: upstream.url, extraYAML: "operations:\n  segments.get: { timeout_ms: 200 }",
            upstreamYAML: Self.quickRetries, timeoutMs: 10_000)
        let started = Date()
        #expect(try gateway.send("GET", Self.read).status == 504)
        // Without the override the client would wait 10 s (and time out at 5 s).
        #expect(Date().timeIntervalSince(started) < 4)
        #expect(upstream.requestCount == 1)
    }

    @Test func theRetryBudgetCapsRetriesAcrossRequests() throws {
        let port = try ClosedPort.make()
        // Two calls at 20 % allow no retry, but the floor allows two in the window.
        let gateway = try GatewayFixture(
            upstream: "http://127.0.0.1:\(port)",
            upstreamYAML: "  retries: { max_attempts: 3, base_delay_ms: 1, max_delay_ms: 2, budget_percent: 20, budget_min_retries: 2 }\n"
                + "  circuit: { failures: 1000 }")
        let first = try gateway.send("GET", Self.read)
        let second = try gateway.send("GET", Self.read)
        #expect(first.status == 502 && second.status == 502)
        #expect(attempts(gateway, first) == 3)
        #expect(attempts(gateway, second) == 1)
    }

    @Test func aClientThatLeavesGivesItsSlotBack() throws {
        let upstream = try ScriptedUpstream(.silent)
        let gateway = try GatewayFixture(upstream: upstream.url, upstreamYAML: Self.quickRetries, timeoutMs: 5000)
        let guards = gateway.runtime.upstreamGuards
        do {
            let client = try gateway.client()
            try client.send("GET \(Self.read) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
            #expect(upstream.waitForRequests(1) == 1)
            #expect(guards.callsInFlight == 1)
        }  // the client closes its connection here
        #expect(Polling.read(timeoutSeconds: 3, until: { $0 == 0 }) { guards.callsInFlight } == 0)
        #expect(gateway.logText(containing: "client_gone").contains("\"outcome\":\"client_gone\""))
        #expect(upstream.requestCount == 1)
    }

    // MARK: - Circuit breaker

    @Test func theBreakerOpensFailsFastHalfOpensAndCloses() throws {
        let upstream = try ScriptedUpstream(.answer(503, "Error service"))
        let gateway = try GatewayFixture(
            upstream: upstream.url,
            upstreamYAML: "  retries: { max_attempts: 1 }\n  circuit: { failures: 3, open_ms: 1500 }")
        let guards = gateway.runtime.upstreamGuards
        for _ in 0..<3 { #expect(try gateway.send("GET", Self.read).status == 503) }
        #expect(upstream.requestCount == 3)
        #expect(guards.circuitState == .open)

        // Open: answered at once by the gateway, the upstream is not called.
        let fast = try gateway.send("GET", Self.read)
        #expect(fast.status == 503)
        #expect(fast.header("Content-Type") == "application/problem+json")
        #expect(fast.json?["type"] as? String == "urn:justgate:problem:unavailable")
        #expect(["1", "2"].contains(fast.header("Retry-After") ?? ""))  // whole seconds until half-open, rounded up
        #expect(upstream.requestCount == 3)

        // Half-open after open_ms; the probe fails, so it opens again.
        try waitForState(.halfOpen, guards)
        #expect(try gateway.send("GET", Self.read).status == 503)
        #expect(upstream.requestCount == 4)
        #expect(guards.circuitState == .open)
        #expect(try gateway.send("GET", Self.read).header("Content-Type") == "application/problem+json")
        #expect(upstream.requestCount == 4)

        // The upstream recovers: the next probe succeeds and closes the circuit.
        upstream.behaviour = .answer(200, "ok")
        try waitForState(.halfOpen, guards)
        #expect(try gateway.send("GET", Self.read).status == 200)
        #expect(guards.circuitState == .closed)
        #expect(try gateway.send("GET", Self.read).status == 200)
        #expect(upstream.requestCount == 6)
        #expect(attempts(gateway, fast) == 0)
        #expect(line(gateway, of: fast)["outcome"] as? String == "upstream_error")
        // The outage is two lines at notice or above, whatever happened in between (two probes, one failed).
        let log = gateway.logText(containing: "upstream circuit closed")
        func count(_ message: String) -> Int { log.components(separatedBy: message).count - 1 }
        #expect(count("\"upstream circuit opened:") == 1, "\(log)")
        #expect(count("\"upstream circuit closed:") == 1)
        #expect(count("\"upstream circuit half-open:") == 2)
        #expect(count("\"upstream circuit open again:") == 1)
        #expect(log.components(separatedBy: "\n").filter { $0.contains("upstream circuit half-open") }.allSatisfy {
            $0.contains("\"level\":\"debug\"")
        })
    }

    @Test func aRefusedUpstreamOpensTheBreakerToo() throws {
        let port = try ClosedPort.make()
        let gateway = try GatewayFixture(
            upstream: "http://127.0.0.1:\(port)",
            upstreamYAML: "  retries: { max_attempts: 3, base_delay_ms: 1, max_delay_ms: 2 }\n  circuit: { failures: 5, open_ms: 60000 }")
        #expect(try gateway.send("GET", Self.read).status == 502)  // 3 failed attempts
        #expect(try gateway.send("GET", Self.read).status == 502)  // 2 more open it; the third is refused
        let refused = try gateway.send("GET", Self.read)
        #expect(refused.status == 503)
        #expect(Int(refused.header("Retry-After") ?? "") ?? 0 >= 59)
        #expect(gateway.runtime.upstreamGuards.circuitState == .open)
    }

    func waitForState(_ state: CircuitState, _ guards: UpstreamGuards) throws {
        try #require(Polling.read(timeoutSeconds: 5, until: { $0 == state }) { guards.circuitState } == state)
    }

    // MARK: - In-flight limit

    @Test func pastMaxInFlightTheAnswerIs503AtOnce() throws {
        let upstream = try ScriptedUpstream(.silent)
        let gateway = try GatewayFixture(upstream: upstream.url, upstreamYAML: Self.quickRetries + "\n  max_in_flight: 2",
                                         timeoutMs: 3000)
        let request = "GET \(Self.read) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n"
        let first = try gateway.client()
        let second = try gateway.client()
        try first.send(request)
        try second.send(request)
        #expect(upstream.waitForRequests(2) == 2)
        #expect(gateway.runtime.upstreamGuards.callsInFlight == 2)
        let third = try gateway.send("GET", Self.read)
        #expect(third.status == 503)
        #expect(third.header("Retry-After") == "1")
        #expect(third.text.contains("2 upstream calls are already in flight"))
        #expect(upstream.requestCount == 2)
        #expect(try first.readResponse().status == 504)
        #expect(try second.readResponse().status == 504)
        #expect(gateway.runtime.upstreamGuards.callsInFlight == 0)
    }

    // MARK: - Idempotency-Key

    @Test func aRepeatedKeyGetsTheFirstAnswerAndADifferentBodyIs422() throws {
        let upstream = try ScriptedUpstream(.answer(200, "0123456789abcdef0123456789abcdef"))
        let gateway = try GatewayFixture(upstream: upstream.url, upstreamYAML: Self.quickRetries)
        let key = ["Idempotency-Key: order-7f3a"]
        let first = try post(gateway, headers: key)
        #expect(first.status == 200)
        let again = try post(gateway, headers: key)
        #expect(again.status == 200)
        #expect(again.text == first.text)
        #expect(again.header("Idempotent-Replayed") == "true")
        #expect(line(gateway, of: again)["outcome"] as? String == "idempotent_replay")
        #expect(again.header("X-Request-Id") != first.header("X-Request-Id"))
        // The same fields as JSON are the same request.
        let json = try gateway.send("POST", Self.create, contentType: "application/json",
                                    body: "{\"ip\":\"8.8.8.8\",\"name\":\"Bob\"}", headers: key)
        #expect(json.status == 200 && json.text == first.text)
        #expect(upstream.requestCount == 1)

        let other = try post(gateway, "ip=8.8.4.4&name=Bob", headers: key)
        #expect(other.status == 422)
        #expect(other.json?["type"] as? String == "urn:justgate:problem:idempotency-mismatch")
        // A word `justgate audit query --outcome` accepts (it was "rejected", which no filter could find).
        #expect(line(gateway, of: other)["outcome"] as? String == "rejected_invalid")
        #expect(upstream.requestCount == 1)

        // Keys are per site; without a key nothing is remembered.
        #expect(try post(gateway, headers: key, key: GatewayFixture.newsKey).status == 200)
        #expect(try post(gateway).status == 200)
        #expect(try post(gateway).status == 200)
        #expect(upstream.requestCount == 4)
        #expect(try post(gateway, headers: ["Idempotency-Key: " + String(repeating: "k", count: 300)]).status == 400)
        #expect(line(gateway, of: again)["outcome"] as? String == "idempotent_replay")
        #expect(attempts(gateway, again) == 0)
        #expect(attempts(gateway, first) == 1)
    }

    /// The answer remembered for a key is the redacted one: a replay must not hand the site the upstream token
    /// the first answer kept from it (issue 21, item 2).
    @Test func aReplayedAnswerIsRedactedLikeTheFirstAndItsLogLineSaysSo() throws {
        let upstream = try CapturingUpstream(
            answer: { request in (200, "created for \(request.headers["x-auth-token"] ?? "")") },
            contentType: { "text/plain; echo=\($0.headers["x-auth-token"] ?? "")" })
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)", upstreamYAML: Self.quickRetries)
        let key = ["Idempotency-Key: order-echo"]
        let first = try post(gateway, headers: key)
        let again = try post(gateway, headers: key)
        #expect(upstream.requests.count == 1)
        #expect(again.header("Idempotent-Replayed") == "true")
        #expect(line(gateway, of: again)["outcome"] as? String == "idempotent_replay")
        for response in [first, again] {
            #expect(response.status == 200)
            #expect(response.text == "created for [redacted]")
            #expect(response.header("Content-Type") == nil)
            #expect(!response.headers.contains { $0.1.contains(GatewayFixture.horoscopeToken) })
        }
        #expect(line(gateway, of: first)["upstream_token_redacted"] as? Bool == true)
        let replayLine = line(gateway, of: again)
        #expect(replayLine["outcome"] as? String == "idempotent_replay")
        #expect(replayLine["upstream_token_redacted"] as? Bool == true)
        #expect(!gateway.logText().contains(GatewayFixture.horoscopeToken))
    }

    @Test func aDuplicateWhileTheFirstIsInFlightIs409AndAFailureIsNotRemembered() throws {
        let upstream = try ScriptedUpstream(.silent)
        let gateway = try GatewayFixture(upstream: upstream.url, upstreamYAML: Self.quickRetries, timeoutMs: 2500)
        let request = "POST \(Self.create) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n"
            + "Idempotency-Key: k-1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nip=8.8.8.8"
        let first = try gateway.client()
        try first.send(request)
        #expect(upstream.waitForRequests(1) == 1)
        let duplicate = try post(gateway, "ip=8.8.8.8", headers: ["Idempotency-Key: k-1"])
        #expect(duplicate.status == 409)
        #expect(duplicate.header("Retry-After") == "1")
        #expect(duplicate.json?["type"] as? String == "urn:justgate:problem:idempotency-conflict")
        #expect(line(gateway, of: duplicate)["outcome"] as? String == "rejected_invalid")
        #expect(try first.readResponse().status == 504)
        // A timeout leaves no answer to replay: the key is forgotten and the retry is sent.
        upstream.behaviour = .answer(200, "0123456789abcdef0123456789abcdef")
        #expect(try post(gateway, "ip=8.8.8.8", headers: ["Idempotency-Key: k-1"]).status == 200)
        #expect(upstream.requestCount == 2)
        #expect(try post(gateway, "ip=8.8.8.8", headers: ["Idempotency-Key: k-1"]).header("Idempotent-Replayed") == "true")
        #expect(upstream.requestCount == 2)
    }
}
