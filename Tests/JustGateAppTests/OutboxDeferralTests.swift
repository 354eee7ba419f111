import Foundation
@testable import JustGateApp
import JustGateCore
import JustGateReactor
import JustGateSandbox
import JustGateUpstream
import Testing

/// The request-path half of store and forward (issue 25 items 2 and 3), end to end: a real gateway on
/// loopback, real libcurl, the sandbox as the upstream (or a port nothing listens on). A site's call is
/// deferred when it asks (`Prefer: respond-async`), when the upstream cannot take it, or when earlier calls
/// of its user wait; it gets 202 and a `Location` it can poll with its own key only.
@Suite(.serialized)
struct OutboxDeferralTests {
    static let subscribePath = "/api/user/v1/subscription/subscribe/email"
    static let unsubscribePath = "/api/user/v1/subscription/unsubscribe/email"
    static let form = "application/x-www-form-urlencoded"

    static func subscribe(_ gateway: GatewayFixture, juid: String, headers: [String] = []) throws -> RawHTTPClient.Response {
        try gateway.send("POST", subscribePath, contentType: form, body: "juid=\(juid)&email=a%40example.com", headers: headers)
    }

    static func poll(_ gateway: GatewayFixture, _ location: String, until state: String,
                     key: String = GatewayFixture.horoscopeKey) -> String {
        Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"\(state)\"") }) {
            (try? gateway.send("GET", location, key: key).text) ?? ""
        }
    }

    @Test func preferRespondAsyncDefersAndTheSitePollsItsDelivery() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-defer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = try OutboxDeliveryTests.sandbox()
        defer { sandbox.stop() }
        let gateway = try OutboxDeliveryTests.gateway(upstream: sandbox.baseURL, outbox: directory.path)
        let juid = try OutboxDeliveryTests.createProfile(gateway)

        let accepted = try Self.subscribe(gateway, juid: juid, headers: ["Prefer: wait=5, Respond-Async"])
        #expect(accepted.status == 202)
        #expect(accepted.header("Preference-Applied") == "respond-async")
        let location = try #require(accepted.header("Location"))
        #expect(location.hasPrefix("/justgate/v1/deliveries/"))
        let id = String(location.dropFirst("/justgate/v1/deliveries/".count))
        #expect(accepted.text == "{\"id\":\"\(id)\",\"state\":\"pending\"}")
        #expect(accepted.header("X-Request-Id") != nil)

        let delivered = Self.poll(gateway, location, until: "delivered")
        #expect(delivered.contains("\"id\":\"\(id)\"") && delivered.contains("\"attempts\":1")
                && delivered.contains("\"upstream_status\":200") && delivered.contains("\"next_attempt_at\":null"))
        // The upstream got the call without the outbox's help in spelling it: the site's token, the fields.
        let sent = sandbox.api.receivedRequests().filter { $0.path == Self.subscribePath }
        #expect(sent.count == 1 && sent.first?.token == GatewayFixture.horoscopeToken)

        // Another site's key, an unknown id: the same 404.
        #expect(try gateway.send("GET", location, key: GatewayFixture.newsKey).status == 404)
        #expect(try gateway.send("GET", "/justgate/v1/deliveries/00000000000000000000000000000000").status == 404)
        #expect(try gateway.send("GET", location, key: nil).status == 401)
        #expect(try gateway.send("POST", location).status == 405)

        // A preference that only mentions respond-async in a parameter is not one.
        let live = try Self.subscribe(gateway, juid: juid, headers: ["Prefer: wait=1; note=\"respond-async\""])
        #expect(live.status == 200 && live.header("Preference-Applied") == nil)
        // profile.create never defers: the site needs its juid.
        let created = try gateway.send("POST", "/api/user/v1/subscription/create/profile", contentType: Self.form,
                                       body: "ip=8.8.8.8", headers: ["Prefer: respond-async"])
        #expect(created.status == 200 && created.header("Preference-Applied") == nil)

        // The one exit: log line, audit record and metric of the deferral and of the poll.
        let log = gateway.logText(containing: "\"outcome\":\"delivery_status\"")
        #expect(log.contains("\"outcome\":\"deferred\""))
        let audit = Polling.read(timeoutSeconds: 3, until: { $0.contains("\"outcome\":\"deferred\"") }, gateway.auditText)
        #expect(audit.contains("\"outcome\":\"deferred\""))
        #expect(!audit.contains(GatewayFixture.horoscopeToken))
        // The delivery's verdict is an event in the same chain, which still verifies and summarises.
        let withDelivery = Polling.read(timeoutSeconds: 3, until: { $0.contains("\"event\":\"delivery\"") }, gateway.auditText)
        let event = try #require(withDelivery.split(separator: "\n").first { $0.contains("\"event\":\"delivery\"") })
        #expect(event.contains("\"outcome\":\"delivered\"") && event.contains("\"note\":\"outbox entry \(id)\"")
                && event.contains("\"operation\":\"subscribe.email\"") && event.contains("\"upstream_status\":200")
                && event.contains("\"attempts\":1") && !event.contains("example.com"))
        let cli = CommandLineTests()
        let verified = try cli.run(["audit", "verify", "--dir", gateway.auditDirectory])
        #expect(verified.status == 0, "\(verified.stderr)")
        let summary = try cli.run(["audit", "summary", "--dir", gateway.auditDirectory])
        #expect(summary.status == 0 && summary.stdout.contains("deferred"), "\(summary.stdout)\(summary.stderr)")
        let events = try cli.run(["audit", "query", "--dir", gateway.auditDirectory, "--event", "delivery"])
        #expect(events.status == 0 && events.stdout.contains(id), "\(events.stdout)\(events.stderr)")
        // The entry on disk never holds the upstream token (it is injected at delivery).
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let bytes = try Data(contentsOf: directory.appendingPathComponent(file))
            #expect(!String(decoding: bytes, as: UTF8.self).contains(GatewayFixture.horoscopeToken))
        }
    }

    @Test func aRefusedConnectionDefersAndOrderPerJuidHoldsThroughTheOutage() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-defer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = try OutboxDeliveryTests.sandbox()
        defer { sandbox.stop() }
        let gateway = try OutboxDeliveryTests.gateway(upstream: sandbox.baseURL, outbox: directory.path)
        let juid = try OutboxDeliveryTests.createProfile(gateway)
        OutboxDeliveryTests.reload(gateway, to: "http://127.0.0.1:1")   // nothing listens: connection refused

        let subscribed = try Self.subscribe(gateway, juid: juid)
        #expect(subscribed.status == 202 && subscribed.header("Preference-Applied") == nil)
        // The unsubscribe would fail the same way; it is deferred before any call because the subscribe waits.
        let unsubscribed = try gateway.send("PUT", Self.unsubscribePath, contentType: Self.form,
                                            body: "juid=\(juid)&email=a%40example.com")
        #expect(unsubscribed.status == 202)
        let log = gateway.logText(containing: "connect_refused")
        #expect(log.contains("\"outcome\":\"deferred\"") && log.contains("\"reason\":\"connect_refused\""))
        let pending = try #require(subscribed.header("Location"))
        #expect(try gateway.send("GET", pending).text.contains("\"state\":\"pending\""))

        OutboxDeliveryTests.reload(gateway, to: sandbox.baseURL)
        let last = try #require(unsubscribed.header("Location"))
        // Delivered in the wrong order, the unsubscribe would find no subscription (404) and go dead.
        #expect(Self.poll(gateway, last, until: "delivered").contains("\"state\":\"delivered\""))
        #expect(try gateway.send("GET", pending).text.contains("\"state\":\"delivered\""))
        let paths = sandbox.api.receivedRequests().map(\.path).filter { $0.contains("subscribe/email") }
        #expect(paths == [Self.subscribePath, Self.unsubscribePath])
    }

    @Test func aFullOutboxAnswers503AndKeepsNothing() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-defer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:1",
                                         extraYAML: "outbox:\n  path: \(directory.path)\n  retry_ms: [60000]\n  max_bytes: 65536\n",
                                         upstreamYAML: "  circuit: { failures: 1000, open_ms: 100 }",
                                         horoscopeYAML: "defer: [subscribe.email]", timeoutMs: 2000)
        var refused: RawHTTPClient.Response?
        for _ in 0..<2000 {
            let answer = try Self.subscribe(gateway, juid: "0123456789abcdef0123456789abcdef", headers: ["Prefer: respond-async"])
            if answer.status != 202 { refused = answer; break }
        }
        let full = try #require(refused)
        #expect(full.status == 503)
        #expect(full.text.contains("outbox is full") && full.text.contains("retry later"))
        #expect(full.header("Retry-After") != nil)
        #expect(gateway.logText(containing: "\"status\":503").contains("\"outcome\":\"upstream_error\""))
    }

    @Test func aDeliveryTheUpstreamRefusesGoesDeadAndTheSiteSeesWhy() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-defer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let refusing = try OutboxDeliveryTests.sandbox(failing: ["subscribe.email=User not found"])
        defer { refusing.stop() }
        let gateway = try GatewayFixture(upstream: refusing.baseURL,
                                         extraYAML: "admin_listen: 127.0.0.1:0\noutbox:\n  path: \(directory.path)\n  retry_ms: [100]\n",
                                         horoscopeYAML: "defer: [subscribe.email]", timeoutMs: 2000)
        let accepted = try Self.subscribe(gateway, juid: "0123456789abcdef0123456789abcdef", headers: ["Prefer: respond-async"])
        let location = try #require(accepted.header("Location"))
        let dead = Self.poll(gateway, location, until: "dead")
        #expect(dead.contains("\"upstream_status\":404") && dead.contains("\"upstream_body\":\"User not found\""))
        let id = String(location.dropFirst("/justgate/v1/deliveries/".count))
        let admin = try #require(gateway.runtime.adminAddress)
        let retried = try RawHTTPClient(port: admin.port)
            .exchange("POST /outbox/\(id)/retry HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        #expect(retried.status == 200)
        let again = Polling.read(timeoutSeconds: 10, until: { $0.contains("\"attempts\":2") }) {
            (try? gateway.send("GET", location).text) ?? ""
        }
        #expect(again.contains("\"attempts\":2") && again.contains("\"state\":\"dead\""))
    }

    @Test func aSandboxOutageIsDeferredAndDeliveredOnceItRecovers() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-defer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let sandbox = try SandboxServer(listen: #require(SocketAddress(host: "127.0.0.1", port: 0)),
                                        tokens: [GatewayFixture.horoscopeToken], unavailableForMs: 1500)
        defer { sandbox.stop() }
        // A user made behind the outage's back (the API itself, not its listener).
        let juid = sandbox.api.handle(SandboxRequest(method: "POST", path: "/api/user/v1/subscription/create/profile",
                                                     form: [("ip", "8.8.8.8")], token: GatewayFixture.horoscopeToken))
            .body.trimmingCharacters(in: .whitespacesAndNewlines)
        let gateway = try OutboxDeliveryTests.gateway(upstream: sandbox.baseURL, outbox: directory.path)
        // The outage answers 503 to everything, profile.create included: it is never deferred, so it fails.
        let created = try gateway.send("POST", "/api/user/v1/subscription/create/profile", contentType: Self.form, body: "ip=8.8.8.8")
        #expect(created.status == 503 && created.text == "Error service")
        let accepted = try Self.subscribe(gateway, juid: juid)
        #expect(accepted.status == 202)
        let location = try #require(accepted.header("Location"))
        #expect(try gateway.send("GET", location).text.contains("\"upstream_status\":503")
                || gateway.send("GET", location).text.contains("\"state\":\"pending\""))
        let settled = Self.poll(gateway, location, until: "delivered")
        #expect(settled.contains("\"upstream_status\":200") && settled.contains("\"state\":\"delivered\""), "\(settled)")
        #expect(gateway.logText(containing: "\"outcome\":\"deferred\"").contains("\"upstream_status\":503"))
    }

    /// Which live results defer (issue 25 item 2b): nothing sent, or the upstream unable to take it now; a
    /// timeout after sending only for an operation safe to deliver twice; never a real answer.
    @Test func whichUpstreamResultsDefer() {
        func answer(_ status: Int) -> Result<RelayedAnswer, UpstreamFailure> {
            RelayedAnswer.screen(.success(UpstreamResponse(status: status, contentType: nil, body: [])), token: [])
        }
        func cause(_ result: Result<RelayedAnswer, UpstreamFailure>, _ trait: DeferralTrait = .recording) -> DeferralCause? {
            RequestDriver.undeliverable(result, trait: trait)
        }
        #expect(cause(answer(503)) == .upstreamStatus(503) && cause(answer(502)) == .upstreamStatus(502)
                && cause(answer(504)) == .upstreamStatus(504))
        #expect(cause(answer(200)) == nil && cause(answer(500)) == nil && cause(answer(404)) == nil && cause(answer(429)) == nil)
        #expect(cause(.failure(.circuitOpen(retryAfterMs: 1000))) == .failure(.circuitOpen))
        #expect(cause(.failure(.overloaded(limit: 1))) == .failure(.overMaxInFlight))
        #expect(cause(.failure(.unreachable("refused", cause: .connectRefused))) == .failure(.connectRefused))
        #expect(cause(.failure(.connectTimedOut("slow"))) == .failure(.timeoutBeforeSending))
        #expect(cause(.failure(.timedOut("late"))) == nil)
        #expect(cause(.failure(.timedOut("late")), .stateSetting) == .failure(.timeoutAfterSending))
        #expect(cause(.failure(.connectionLost("reset", cause: .connectionReset)), .stateSetting) == nil)
        #expect(cause(.failure(.cancelled), .stateSetting) == nil)
    }
}
