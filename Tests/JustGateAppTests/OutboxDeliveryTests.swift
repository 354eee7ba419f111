import Foundation
@testable import JustGateApp
import JustGateCore
import JustGateSandbox
import JustGateReactor
import JustGateServer
import Testing

/// The delivery engine against the sandbox over real libcurl on loopback (issue 25 item 4): an entry is retried
/// while the upstream fails and delivered once it answers, with the token in force at that moment; a 4xx goes
/// dead at once (and an operator's retry sends it again); order per site and juid holds through an outage.
///
/// The tests put `DeferredCall`s straight into the running gateway's outbox, as the request driver's deferral
/// phases do (those are tested end to end in `OutboxDeferralTests`). Upstream outages are made by a reload to a sandbox told to fail
/// (`SandboxFailures`, as `justgate sandbox --fail`) or to a port nothing listens on.
@Suite(.serialized)
struct OutboxDeliveryTests {
    static let email = "a%40example.com"

    static func sandbox(failing: [String] = [], tokens: Set<String> = [GatewayFixture.horoscopeToken]) throws -> SandboxServer {
        try SandboxServer(listen: #require(SocketAddress(host: "127.0.0.1", port: 0)), tokens: tokens,
                          failures: SandboxFailures(parsing: failing))
    }

    /// A gateway whose horoscope site defers subscribe.email and unsubscribe.email, retrying every 100 ms, with
    /// a breaker that stays out of the way.
    static func gateway(upstream: String, outbox: String) throws -> GatewayFixture {
        try GatewayFixture(upstream: upstream,
                           extraYAML: "outbox:\n  path: \(outbox)\n  retry_ms: [100]\n",
                           upstreamYAML: "  circuit: { failures: 1000, open_ms: 100 }",
                           horoscopeYAML: "defer: [subscribe.email, unsubscribe.email]", timeoutMs: 2000)
    }

    static func call(_ operation: String, juid: String) -> DeferredCall {
        let unsubscribe = operation == "unsubscribe.email"
        return DeferredCall(siteID: "horoscope-daily", operationID: operation, juid: juid,
                            method: unsubscribe ? "PUT" : "POST",
                            target: unsubscribe ? "/api/user/v1/subscription/unsubscribe/email"
                                : "/api/user/v1/subscription/subscribe/email",
                            body: Array("juid=\(juid)&email=\(email)".utf8),
                            contentType: "application/x-www-form-urlencoded", requestID: "req-\(operation)")
    }

    static func createProfile(_ gateway: GatewayFixture) throws -> String {
        let response = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                        contentType: "application/x-www-form-urlencoded", body: "ip=8.8.8.8&name=Bob")
        #expect(response.status == 200)
        return response.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func reload(_ gateway: GatewayFixture, to url: String, token: String = GatewayFixture.horoscopeToken) {
        var config = gateway.config
        config.upstream.target = .url(url)
        var sites = gateway.sites
        sites[0].upstreamToken = Secret(token)
        gateway.runtime.reload(config: config, sites: sites)
    }

    static func entry(_ store: OutboxFileStore, _ id: String, timeout: Double = 10,
                      until done: @escaping (OutboxEntry) -> Bool) -> OutboxEntry? {
        Polling.read(timeoutSeconds: timeout, until: { $0.map(done) ?? false }) { store.entry(id: id) }
    }

    @Test func retriedWhileFailingThenDeliveredWithTheCurrentToken() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let rotated = "rotated-token-0123456789"
        let healthy = try Self.sandbox(tokens: [rotated])
        defer { healthy.stop() }
        // The sandbox keeps each token's users apart: the user is made under the token delivery will use.
        let created = healthy.api.handle(SandboxRequest(method: "POST", path: "/api/user/v1/subscription/create/profile",
                                                        form: [("ip", "8.8.8.8")], token: rotated))
        let juid = created.body.trimmingCharacters(in: .whitespacesAndNewlines)
        let failing = try Self.sandbox(failing: ["subscribe.email=Error save data"])
        defer { failing.stop() }
        let gateway = try Self.gateway(upstream: failing.baseURL, outbox: directory.path)
        let store = try #require(gateway.runtime.outbox)
        let kept = try OutboxFileStoreTests.keep(store, Self.call("subscribe.email", juid: juid)).get()

        let retrying = Self.entry(store, kept.id) { $0.attempts >= 2 }
        #expect(retrying?.state == .pending && retrying?.lastStatus == 500
                && retrying?.lastBody == Array("Error save data".utf8))
        #expect(!healthy.api.receivedRequests().contains { $0.path.hasSuffix("/subscribe/email") })

        // The outage ends and the site's token has been rotated meanwhile: only the new one is accepted now.
        Self.reload(gateway, to: healthy.baseURL, token: rotated)
        let delivered = Self.entry(store, kept.id) { $0.state == .delivered }
        #expect(delivered?.state == .delivered && delivered?.lastStatus == 200, "\(String(describing: delivered)) \(String(decoding: delivered?.lastBody ?? [], as: UTF8.self))")
        let sent = healthy.api.receivedRequests().filter { $0.path.hasSuffix("/subscribe/email") }
        #expect(sent.count == 1 && sent.first?.token == rotated)
        #expect(sent.first?.form.first { $0.name == "juid" }?.value == juid)
        #expect(!store.hasPending(siteID: "horoscope-daily", juid: juid))
    }

    @Test func aRefusalGoesDeadAtOnceAndAnOperatorCanRetryIt() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let refusing = try Self.sandbox(failing: ["subscribe.email=User not found"])
        defer { refusing.stop() }
        let gateway = try Self.gateway(upstream: refusing.baseURL, outbox: directory.path)
        let store = try #require(gateway.runtime.outbox)
        let kept = try OutboxFileStoreTests.keep(store, Self.call("subscribe.email", juid: "0123456789abcdef0123456789abcdef")).get()
        let dead = Self.entry(store, kept.id) { $0.state == .dead }
        #expect(dead?.attempts == 1 && dead?.lastStatus == 404 && dead?.lastBody == Array("User not found".utf8))
        let status = try #require(dead.map(DeliveryStatus.init))
        #expect(String(decoding: status.json, as: UTF8.self) == """
            {"id":"\(kept.id)","state":"dead","attempts":1,"next_attempt_at":null,"upstream_status":404,\
            "upstream_body":"User not found"}
            """)
        #expect(store.retry(id: kept.id))
        let again = Self.entry(store, kept.id) { $0.attempts == 2 }
        #expect(again?.state == .dead)
        #expect(refusing.api.receivedRequests().filter { $0.path.hasSuffix("/subscribe/email") }.count == 2)
    }

    @Test func orderPerJuidHoldsThroughAnOutage() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
        defer { try? FileManager.default.removeItem(at: directory) }
        let healthy = try Self.sandbox()
        defer { healthy.stop() }
        let gateway = try Self.gateway(upstream: healthy.baseURL, outbox: directory.path)
        let juid = try Self.createProfile(gateway)
        Self.reload(gateway, to: "http://127.0.0.1:1")   // nothing listens: connection refused
        let store = try #require(gateway.runtime.outbox)
        let subscribe = try OutboxFileStoreTests.keep(store, Self.call("subscribe.email", juid: juid)).get()
        let unsubscribe = try OutboxFileStoreTests.keep(store, Self.call("unsubscribe.email", juid: juid)).get()
        let retrying = Self.entry(store, subscribe.id) { $0.attempts >= 2 }
        #expect(retrying?.lastFailure == "connect_refused")
        #expect(store.entry(id: unsubscribe.id)?.attempts == 0)   // waits behind the subscribe, never tried

        Self.reload(gateway, to: healthy.baseURL)
        // Delivered in the wrong order, the unsubscribe would find no subscription (404) and go dead.
        #expect(Self.entry(store, unsubscribe.id) { $0.state != .pending }?.state == .delivered)
        #expect(store.entry(id: subscribe.id)?.state == .delivered)
        let paths = healthy.api.receivedRequests().map(\.path).filter { $0.contains("subscribe/email") }
        #expect(paths == ["/api/user/v1/subscription/subscribe/email", "/api/user/v1/subscription/unsubscribe/email"])
    }
}

/// The outbox's admin endpoints: list by state, show, retry a dead entry, drop, refuse a browser.
@Suite(.serialized)
struct OutboxAdminTests {
    /// A gateway whose upstream refuses subscribe.email ("User not found": dead at once), its file outbox in a
    /// temporary directory retrying every 100 ms, and an admin listener.
    struct RefusingGateway {
        let directory: URL
        let sandbox: SandboxServer
        let gateway: GatewayFixture
        let store: OutboxFileStore
        let adminPort: Int

        init() throws {
            directory = try SystemTools.temporaryDirectory(prefix: "jg-outbox")
            sandbox = try OutboxDeliveryTests.sandbox(failing: ["subscribe.email=User not found"])
            gateway = try GatewayFixture(upstream: sandbox.baseURL,
                                         extraYAML: "admin_listen: 127.0.0.1:0\noutbox:\n  path: \(directory.path)\n  retry_ms: [100]\n",
                                         horoscopeYAML: "defer: [subscribe.email]", timeoutMs: 2000)
            store = try #require(gateway.runtime.outbox)
            adminPort = try #require(gateway.runtime.adminAddress).port
        }

        func admin(_ method: String, _ target: String, _ extra: String = "") throws -> RawHTTPClient.Response {
            try RawHTTPClient(port: adminPort).exchange("\(method) \(target) HTTP/1.1\r\nHost: admin\r\n\(extra)Content-Length: 0\r\n\r\n")
        }

        func close() {
            sandbox.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test func anOperatorListsRetriesAndDropsEntries() throws {
        let refusing = try RefusingGateway()
        defer { refusing.close() }
        let store = refusing.store
        func exchange(_ method: String, _ target: String, _ extra: String = "") throws -> RawHTTPClient.Response {
            try refusing.admin(method, target, extra)
        }
        let juid = "0123456789abcdef0123456789abcdef"
        let kept = try OutboxFileStoreTests.keep(store, OutboxDeliveryTests.call("subscribe.email", juid: juid)).get()
        _ = OutboxDeliveryTests.entry(store, kept.id) { $0.state == .dead }
        let dead = try exchange("GET", "/outbox?state=dead")
        #expect(dead.status == 200 && dead.text.contains("\"id\":\"\(kept.id)\"") && dead.text.contains("\"juid\":\"\(juid)\"")
                && dead.text.contains("\"state\":\"dead\"") && dead.text.contains("\"upstream_status\":404"))
        #expect(!dead.text.contains("example.com"))   // no body: it holds the user's address
        #expect(try exchange("GET", "/outbox").text == "{\"entries\":[]}")
        let metrics = try exchange("GET", "/metrics").text
        #expect(metrics.contains("justgate_outbox_dead_entries{site=\"horoscope-daily\"} 1.0"))
        #expect(metrics.contains("justgate_outbox_depth{site=\"horoscope-daily\"} 0.0"))
        #expect(metrics.contains("justgate_outbox_deferred_total{site=\"horoscope-daily\"} 1"))
        #expect(metrics.contains("justgate_outbox_dead_total{site=\"horoscope-daily\"} 1"))
        #expect(metrics.contains("justgate_outbox_delivery_attempts_total{outcome=\"refused\"} 1"))
        // What the alert rules and the dashboard name of an outbox is on this gateway's page.
        for name in MonitoringArtifactsTests.onlyWithOutbox {
            #expect(metrics.contains("\n\(name){") || metrics.contains("\n\(name) "), "\(name) is not exported")
        }
        #expect(try exchange("GET", "/outbox/\(kept.id)").text.contains("\"last_failure\":null"))
        #expect(try exchange("GET", "/outbox/nope").status == 404)
        #expect(try exchange("POST", "/outbox/\(kept.id)/retry", "Origin: https://evil.example\r\n").status == 403)
        #expect(try exchange("POST", "/outbox/\(kept.id)/retry").status == 200)
        #expect(OutboxDeliveryTests.entry(store, kept.id) { $0.attempts == 2 }?.state == .dead)
        #expect(try exchange("DELETE", "/outbox/\(kept.id)").status == 200)
        #expect(store.entry(id: kept.id) == nil)
        #expect(try exchange("POST", "/outbox/\(kept.id)/retry").status == 404)
    }

    /// After a day of refusals (an outage past `max_age_s`, a wrong token), the operator replays what died:
    /// every dead entry of one site at once, the others untouched; each retry and drop is in the audit chain
    /// with the admin peer, so no call is re-sent or given up without a trace.
    @Test func anOperatorRetriesEveryDeadEntryOfASiteAndEachActionIsAudited() throws {
        let refusing = try RefusingGateway()
        defer { refusing.close() }
        let (gateway, store) = (refusing.gateway, refusing.store)
        func exchange(_ method: String, _ target: String) throws -> RawHTTPClient.Response { try refusing.admin(method, target) }
        var horoscope: [String] = []
        for juid in ["0123456789abcdef0123456789abcde1", "0123456789abcdef0123456789abcde2"] {
            horoscope.append(try OutboxFileStoreTests.keep(store, OutboxDeliveryTests.call("subscribe.email", juid: juid)).get().id)
        }
        var news = OutboxDeliveryTests.call("subscribe.email", juid: "0123456789abcdef0123456789abcde3")
        news.siteID = "news-portal"
        let newsID = try OutboxFileStoreTests.keep(store, news).get().id
        for id in horoscope + [newsID] { #expect(OutboxDeliveryTests.entry(store, id) { $0.state == .dead } != nil) }

        let newsDead = try exchange("GET", "/outbox?state=dead&site=news-portal").text
        #expect(newsDead.contains(newsID) && !horoscope.contains { newsDead.contains($0) }, "\(newsDead)")
        #expect(try exchange("GET", "/outbox?state=dead&site=No%20Such").status == 400)

        let replay = try exchange("POST", "/outbox/retry?site=horoscope-daily")
        #expect(replay.status == 200 && replay.text == "retried 2 dead entries of site horoscope-daily: pending again, due now\n",
                "\(replay.text)")
        for id in horoscope { #expect(OutboxDeliveryTests.entry(store, id) { $0.attempts == 2 && $0.state == .dead } != nil) }
        #expect(store.entry(id: newsID)?.attempts == 1)   // another site's dead entry is left alone
        #expect(try exchange("DELETE", "/outbox/\(newsID)").status == 200)

        let audit = Polling.read(timeoutSeconds: 5, until: { $0.contains("\"outcome\":\"dropped\"") }) { gateway.auditText() }
        let operatorLines = audit.split(separator: "\n").filter { $0.contains("\"reason\":\"operator\"") }
        #expect(operatorLines.count == 3, "\(audit)")
        #expect(operatorLines.filter { $0.contains("\"outcome\":\"retried\"") && $0.contains("\"site\":\"horoscope-daily\"") }.count == 2)
        #expect(operatorLines.contains { $0.contains("\"outcome\":\"dropped\"") && $0.contains("outbox entry \(newsID)")
                                         && $0.contains("\"client\":\"127.0.0.1") })
        #expect(!audit.contains("example.com"))   // never the call's body
        // Without a site, every dead entry: the two of horoscope-daily, dead again.
        let all = try exchange("POST", "/outbox/retry")
        #expect(all.status == 200 && all.text == "retried 2 dead entries: pending again, due now\n", "\(all.text)")
    }
}
