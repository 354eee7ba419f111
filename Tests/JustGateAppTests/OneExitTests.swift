#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import JustGateCore
import Testing

/// Every way a request can end, produced for real over loopback (real sockets, real libcurl, the sandbox or a
/// scripted upstream), and for each one: exactly one request log line, exactly one audit record (none only for
/// the audit refusal, whose record is what could not be written) and its count in `justgate_requests_total`,
/// all saying the same status and outcome. Then, per gateway, the three totals agree: no request left
/// without being recorded, none recorded twice.
@Suite(.serialized) struct OneExitTests {
    static let juid = "de6f0132ea9e412599ae31262c45633b"
    static let read = "/api/user/v1/info/segment/?juid=\(juid)"
    static let key = GatewayFixture.horoscopeKey

    static func fixture(upstream: String = "sandbox", serverYAML: String = "", upstreamYAML: String = "",
                        horoscopeYAML: String = "", timeoutMs: Int = 10_000) throws -> GatewayFixture {
        try GatewayFixture(upstream: upstream, extraYAML: "admin_listen: 127.0.0.1:0", serverYAML: serverYAML,
                           upstreamYAML: upstreamYAML, horoscopeYAML: horoscopeYAML, timeoutMs: timeoutMs)
    }

    /// The JSON objects of `text`, one a line, that `keep` accepts.
    static func objects(_ text: String, _ keep: ([String: Any]) -> Bool) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], keep(object)
            else { return nil }
            return object
        }
    }

    static func requestLines(_ gateway: GatewayFixture) -> [[String: Any]] {
        objects(gateway.logText()) { $0["message"] as? String == "request" }
    }

    static func auditRecords(_ gateway: GatewayFixture) -> [[String: Any]] {
        objects(gateway.auditText()) { $0["event"] as? String == "request" }
    }

    static func requestsTotal(_ gateway: GatewayFixture, _ labels: [String: String] = [:]) -> Double {
        guard let port = gateway.runtime.adminAddress?.port else { return -1 }
        let text = (try? RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text) ?? ""
        return PrometheusText.sum((try? PrometheusText.parse(text)) ?? [], "justgate_requests_total", where: labels)
    }

    /// The request `id` ended once, as `status` and `outcome`, in all three places (no audit record when
    /// `audited` is false).
    func expectOneExit(_ gateway: GatewayFixture, id: String?, status: Int, outcome: String, audited: Bool = true,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let id = try #require(id, "the answer names its request", sourceLocation: sourceLocation)
        let lines = Polling.read(timeoutSeconds: 3, until: { !$0.isEmpty }) {
            Self.requestLines(gateway).filter { $0["request_id"] as? String == id }
        }
        #expect(lines.count == 1, "log lines of \(id): \(lines)", sourceLocation: sourceLocation)
        #expect(lines.first?["status"] as? Int == status, "\(lines)", sourceLocation: sourceLocation)
        #expect(lines.first?["outcome"] as? String == outcome, "\(lines)", sourceLocation: sourceLocation)
        if audited {
            let records = Polling.read(timeoutSeconds: 3, until: { !$0.isEmpty }) {
                Self.auditRecords(gateway).filter { $0["request_id"] as? String == id }
            }
            #expect(records.count == 1, "audit records of \(id): \(records)", sourceLocation: sourceLocation)
            #expect(records.first?["status"] as? Int == status, "\(records)", sourceLocation: sourceLocation)
            #expect(records.first?["outcome"] as? String == outcome, "\(records)", sourceLocation: sourceLocation)
        }
        let counted = Polling.read(timeoutSeconds: 3, until: { $0 >= 1 }) {
            Self.requestsTotal(gateway, ["status": String(status), "outcome": outcome])
        }
        #expect(counted >= 1, "justgate_requests_total{status=\"\(status)\",outcome=\"\(outcome)\"}", sourceLocation: sourceLocation)
    }

    /// As many log lines as audit records as counted requests: every request left through the one exit, once.
    func expectTotalsAgree(_ gateway: GatewayFixture, audited: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
        let totals = Polling.read(timeoutSeconds: 3, until: { $0.0 == $0.2 && (!audited || $0.1 == $0.2) }) {
            (Self.requestLines(gateway).count, Self.auditRecords(gateway).count, Int(Self.requestsTotal(gateway)))
        }
        #expect(totals.0 == totals.2, "log lines \(totals.0), counted \(totals.2)", sourceLocation: sourceLocation)
        if audited { #expect(totals.1 == totals.2, "audit records \(totals.1), counted \(totals.2)", sourceLocation: sourceLocation) }
    }

    func send(_ gateway: GatewayFixture, _ method: String, _ target: String, key: String? = OneExitTests.key,
              id: String? = nil, contentType: String? = nil, body: String = "", headers: [String] = []) throws -> RawHTTPClient.Response {
        try gateway.send(method, target, key: key, contentType: contentType, body: body,
                         headers: headers + (id.map { ["X-Request-Id: \($0)"] } ?? []))
    }

    /// The gateway's own refusals, the server's own answers, an idempotent replay and a relayed answer.
    @Test func refusalsServerAnswersReplaysAndAnswersLeaveOnce() throws {
        let gateway = try Self.fixture(serverYAML: "  max_body_bytes: 4096\n  max_header_line_bytes: 2048\n  max_header_bytes: 4096\n  max_request_line_bytes: 2048\n  header_timeout_ms: 300\n",
                                       horoscopeYAML: "limits:\n  - { name: stat-once, scope: site, operations: [stat.count_by_refid], rate: 1/h }")
        let form = "application/x-www-form-urlencoded"

        // The sandbox knows no such user: its 404 is relayed as it is, an upstream answer like any other.
        let relayed = try send(gateway, "GET", Self.read)
        try expectOneExit(gateway, id: relayed.header("X-Request-Id"), status: relayed.status, outcome: "forwarded")

        // Refused by the screen, from the head, before the body is read.
        let screened = try send(gateway, "POST", "/api/user/v1/action/", key: nil, contentType: form, body: "juid=\(Self.juid)")
        #expect(screened.status == 401)
        try expectOneExit(gateway, id: screened.header("X-Request-Id"), status: 401, outcome: "rejected_auth")
        let unknownKey = try send(gateway, "GET", Self.read, key: "not-a-key")
        try expectOneExit(gateway, id: unknownKey.header("X-Request-Id"), status: 401, outcome: "rejected_auth")
        let notFound = try send(gateway, "GET", "/api/nothing")
        try expectOneExit(gateway, id: notFound.header("X-Request-Id"), status: 404, outcome: "rejected_invalid")
        let invalid = try send(gateway, "GET", "/api/user/v1/info/segment/?juid=x")
        try expectOneExit(gateway, id: invalid.header("X-Request-Id"), status: 422, outcome: "rejected_invalid")
        let unsupported = try send(gateway, "POST", "/api/user/v1/action/", contentType: "text/csv", body: "a,b")
        try expectOneExit(gateway, id: unsupported.header("X-Request-Id"), status: 415, outcome: "rejected_invalid")

        // The rate limit.
        let stat = "/api/user/v1/stat/get-count-refid/sms?startDate=1700000000&endDate=1700000100"
        _ = try send(gateway, "GET", stat)
        let limited = try send(gateway, "GET", stat)
        #expect(limited.status == 429)
        try expectOneExit(gateway, id: limited.header("X-Request-Id"), status: 429, outcome: "rate_limited")

        // Idempotency-Key: malformed, first use, replay, reuse for other fields.
        let create = "/api/user/v1/subscription/create/profile"
        let badKey = try send(gateway, "POST", create, contentType: form, body: "name=Ann", headers: ["Idempotency-Key: a b"])
        try expectOneExit(gateway, id: badKey.header("X-Request-Id"), status: 400, outcome: "rejected_invalid")
        let key = "Idempotency-Key: \(UUID().uuidString)"
        let first = try send(gateway, "POST", create, contentType: form, body: "name=Ann", headers: [key])
        try expectOneExit(gateway, id: first.header("X-Request-Id"), status: first.status, outcome: "forwarded")
        let replay = try send(gateway, "POST", create, contentType: form, body: "name=Ann", headers: [key])
        #expect(replay.header("Idempotent-Replayed") == "true")
        try expectOneExit(gateway, id: replay.header("X-Request-Id"), status: first.status, outcome: "idempotent_replay")
        let reused = try send(gateway, "POST", create, contentType: form, body: "name=Bob", headers: [key])
        try expectOneExit(gateway, id: reused.header("X-Request-Id"), status: reused.status, outcome: "rejected_invalid")

        // The server's own answers: malformed (400), too large (413), headers too large (431), too slow (408).
        let malformed = try gateway.client().exchange("GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n")
        #expect(malformed.status == 400)
        try expectOneExit(gateway, id: malformed.header("X-Request-Id"), status: 400, outcome: "rejected_invalid")
        let tooLarge = try gateway.client().exchange("POST /api/user/v1/action/ HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n")
        #expect(tooLarge.status == 413)
        try expectOneExit(gateway, id: tooLarge.header("X-Request-Id"), status: 413, outcome: "rejected_invalid")
        let longLine = try gateway.client().exchange("GET /\(String(repeating: "a", count: 3000)) HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(longLine.status == 414)
        try expectOneExit(gateway, id: longLine.header("X-Request-Id"), status: 414, outcome: "rejected_invalid")
        let bigHeader = "X-Big: \(String(repeating: "b", count: 1500))\r\n"
        let bigHead = try gateway.client().exchange("GET / HTTP/1.1\r\nHost: a\r\n\(String(repeating: bigHeader, count: 4))\r\n")
        #expect(bigHead.status == 431)
        try expectOneExit(gateway, id: bigHead.header("X-Request-Id"), status: 431, outcome: "rejected_invalid")
        let slow = try gateway.client()
        try slow.send("GET \(Self.read) HTTP/1.1\r\n")
        let timedOut = try slow.readResponse()
        #expect(timedOut.status == 408)
        try expectOneExit(gateway, id: timedOut.header("X-Request-Id"), status: 408, outcome: "rejected_invalid")

        expectTotalsAgree(gateway)
    }

    /// More refusals from the head: 405, ambiguous credentials, an expired key, an encoded slash.
    @Test func headRefusalsLeaveOnce() throws {
        let expiredKey = "one-exit-expired-key-0123456789abcdef"
        let gateway = try Self.fixture(horoscopeYAML: "keys:\n  - { sha256: \"\(SiteKeys.sha256Hex(expiredKey))\", expires: 2001-01-01 }")
        let notAllowed = try send(gateway, "DELETE", Self.read)
        #expect(notAllowed.status == 405)
        try expectOneExit(gateway, id: notAllowed.header("X-Request-Id"), status: 405, outcome: "rejected_invalid")
        let twice = try send(gateway, "GET", Self.read, headers: ["X-AUTH-TOKEN: another-key"])
        #expect(twice.status == 400)
        try expectOneExit(gateway, id: twice.header("X-Request-Id"), status: 400, outcome: "rejected_invalid")
        let expired = try send(gateway, "GET", Self.read, key: expiredKey)
        #expect(expired.status == 401)
        try expectOneExit(gateway, id: expired.header("X-Request-Id"), status: 401, outcome: "rejected_auth")
        let slash = try send(gateway, "GET", "/api/user/v1/info%2Fsegment/?juid=\(Self.juid)")
        #expect(slash.status == 400)
        try expectOneExit(gateway, id: slash.header("X-Request-Id"), status: 400, outcome: "rejected_invalid")
        expectTotalsAgree(gateway)
    }

    /// The server's own answers are counted in `justgate_requests_total` but stay out of the duration histogram:
    /// a 408 would put the whole header timeout there.
    @Test func serverAnswersAreCountedNotTimed() throws {
        let gateway = try Self.fixture(serverYAML: "  header_timeout_ms: 300\n")
        let slow = try gateway.client()
        try slow.send("GET \(Self.read) HTTP/1.1\r\n")
        let timedOut = try slow.readResponse()
        #expect(timedOut.status == 408)
        try expectOneExit(gateway, id: timedOut.header("X-Request-Id"), status: 408, outcome: "rejected_invalid")
        let port = try #require(gateway.runtime.adminAddress?.port)
        let text = try RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text
        #expect(PrometheusText.sum(try PrometheusText.parse(text), "justgate_request_duration_seconds_count") == 0)
    }

    /// The admin listener's own 400 is no site's request: no log line, audit record or count.
    @Test func anAdminListenersServerAnswerAddsNoSiteRecord() throws {
        let gateway = try Self.fixture()
        let answered = try send(gateway, "GET", Self.read)
        try expectOneExit(gateway, id: answered.header("X-Request-Id"), status: answered.status, outcome: "forwarded")
        let port = try #require(gateway.runtime.adminAddress?.port)
        let malformed = try RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n")
        #expect(malformed.status == 400)
        usleep(100_000)
        #expect(Self.requestLines(gateway).count == 1)
        #expect(Self.auditRecords(gateway).count == 1)
        #expect(Self.requestsTotal(gateway) == 1)
    }

    /// The 503 at `server.max_connections`, answered by the event loop before any request is read.
    @Test func theConnectionCapLeavesOnce() throws {
        let gateway = try Self.fixture(serverYAML: "  max_connections: 2\n")
        let held = [try gateway.client(), try gateway.client()]
        try held.forEach { try $0.send("G") }
        usleep(50_000)
        let refused = try gateway.client().readResponse()
        #expect(refused.status == 503)
        try expectOneExit(gateway, id: refused.header("X-Request-Id"), status: 503, outcome: "rejected_overload")
        _ = held
    }

    /// Every way an upstream call ends: answered, reset after sending (502), hung (504), too many in flight
    /// (503), the client gone while it waited (499); then unreachable (502) and the open circuit (503).
    @Test func upstreamAnswersAndFailuresLeaveOnce() throws {
        let upstream = try ScriptedUpstream(.answer(200, "[]"))
        let gateway = try Self.fixture(upstream: upstream.url,
                                       upstreamYAML: "  retries: { max_attempts: 1 }\n  circuit: { failures: 1000 }\n  max_in_flight: 1",
                                       timeoutMs: 2000)  // room for the reset under a loaded CI; the hung call waits it out
        let answered = try send(gateway, "GET", Self.read)
        try expectOneExit(gateway, id: answered.header("X-Request-Id"), status: 200, outcome: "forwarded")
        upstream.behaviour = .reset
        let reset = try send(gateway, "GET", Self.read)
        try expectOneExit(gateway, id: reset.header("X-Request-Id"), status: 502, outcome: "upstream_error")
        upstream.behaviour = .silent
        let hung = try send(gateway, "GET", Self.read)
        try expectOneExit(gateway, id: hung.header("X-Request-Id"), status: 504, outcome: "upstream_timeout")

        let waiting = try gateway.client()
        let waitingID = "one-exit-waiting-0001"
        // libcurl may resend a request whose reused connection was reset: count from here.
        let before = upstream.requestCount
        try waiting.send("GET \(Self.read) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(Self.key)\r\nX-Request-Id: \(waitingID)\r\n\r\n")
        #expect(upstream.waitForRequests(before + 1) == before + 1)
        let overloaded = try send(gateway, "GET", Self.read)
        #expect(overloaded.status == 503)
        try expectOneExit(gateway, id: overloaded.header("X-Request-Id"), status: 503, outcome: "upstream_error")
        #expect(try waiting.readResponse().status == 504)
        try expectOneExit(gateway, id: waitingID, status: 504, outcome: "upstream_timeout")

        let leavingID = "one-exit-leaving-0001"
        do {
            let leaving = try gateway.client()
            try leaving.send("GET \(Self.read) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(Self.key)\r\nX-Request-Id: \(leavingID)\r\n\r\n")
            #expect(upstream.waitForRequests(before + 2) == before + 2)
        }  // the client closes its connection here
        try expectOneExit(gateway, id: leavingID, status: 499, outcome: "client_gone")
        expectTotalsAgree(gateway)

        let down = try Self.fixture(upstream: "http://127.0.0.1:\(try ClosedPort.make())",
                                    upstreamYAML: "  retries: { max_attempts: 1 }\n  circuit: { failures: 1, open_ms: 60000 }")
        let unreachable = try send(down, "GET", Self.read)
        try expectOneExit(down, id: unreachable.header("X-Request-Id"), status: 502, outcome: "upstream_error")
        let open = try send(down, "GET", Self.read)
        #expect(open.header("Retry-After") != nil)
        try expectOneExit(down, id: open.header("X-Request-Id"), status: 503, outcome: "upstream_error")
        expectTotalsAgree(down)
    }

    /// A deferral (202, outcome `deferred`), a site's read of its delivery (200, `delivery_status`) and a read
    /// with another site's key (404): each leaves once, like any request; the delivery's own audit event is not
    /// a request record and is not counted as one.
    @Test func deferralsAndDeliveryReadsLeaveOnce() throws {
        let outbox = try SystemTools.temporaryDirectory(prefix: "jg-one-exit-outbox")
        defer { try? FileManager.default.removeItem(at: outbox) }
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0\noutbox: { path: \(outbox.path), retry_ms: [100] }",
                                         horoscopeYAML: "defer: [subscribe.email]")
        let deferred = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email",
                                        contentType: "application/x-www-form-urlencoded",
                                        body: "juid=\(Self.juid)&email=a%40example.com", headers: ["Prefer: respond-async"])
        #expect(deferred.status == 202)
        try expectOneExit(gateway, id: deferred.header("X-Request-Id"), status: 202, outcome: "deferred")
        let location = try #require(deferred.header("Location"))
        let read = try gateway.send("GET", location)
        #expect(read.status == 200)
        try expectOneExit(gateway, id: read.header("X-Request-Id"), status: 200, outcome: "delivery_status")
        let foreign = try gateway.send("GET", location, key: GatewayFixture.newsKey)
        #expect(foreign.status == 404)
        try expectOneExit(gateway, id: foreign.header("X-Request-Id"), status: 404, outcome: "rejected_invalid")
        _ = Polling.read(timeoutSeconds: 3, until: { $0.contains("\"event\":\"delivery\"") }, gateway.auditText)
        expectTotalsAgree(gateway)
    }

    /// The audit refusal: a log line and its count, and no audit record (the writer is what refused it).
    @Test func theAuditRefusalIsLoggedAndCounted() throws {
        let gateway = try Self.fixture()
        #expect(try send(gateway, "GET", Self.read).status != 503)
        // Root ignores permissions, so make the directory impossible to use: a plain file in its place.
        let moved = gateway.auditDirectory + "-moved"
        try FileManager.default.moveItem(atPath: gateway.auditDirectory, toPath: moved)
        defer { try? FileManager.default.removeItem(atPath: moved) }
        _ = FileManager.default.createFile(atPath: gateway.auditDirectory, contents: Data("not a directory".utf8))
        let refused = Polling.read(timeoutSeconds: 15, until: { $0?.status == 503 }) { () -> RawHTTPClient.Response? in
            usleep(20_000)
            return try? send(gateway, "GET", Self.read)
        }
        #expect(refused?.status == 503)
        try expectOneExit(gateway, id: refused?.header("X-Request-Id"), status: 503, outcome: "audit_unavailable", audited: false)
        // A request with a body passes the screen (which does not ask the audit log) and is refused at `handle`.
        let withBody = try send(gateway, "POST", "/api/user/v1/action/", contentType: "application/x-www-form-urlencoded",
                                body: "juid=\(Self.juid)")
        #expect(withBody.status == 503)
        try expectOneExit(gateway, id: withBody.header("X-Request-Id"), status: 503, outcome: "audit_unavailable", audited: false)
        expectTotalsAgree(gateway, audited: false)
    }
}
