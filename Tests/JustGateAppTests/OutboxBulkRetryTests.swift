import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// The replay after a day of refusals, on both backends with the real binary: `POST /outbox/retry?site=S` makes
/// every dead entry of one site pending again and leaves the other site's alone, a listing by site shows only
/// that site's, and `POST /outbox/retry` retries every dead entry. Each retry is an audit event naming the
/// operator's address; on Redis the per-site listing reads the site's own set.
@Suite(.serialized)
struct OutboxBulkRetryTests {
    let base = RedisOutboxTests()
    var cli: CommandLineTests { base.cli }
    static let newsKey = "bulk-retry-news-key-0123456789abcd"

    @Test(arguments: ["file", "redis"])
    func everyDeadEntryOfOneSiteIsRetriedAndTheOtherSitesAreLeftAlone(backend: String) throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-bulk-retry")
        defer { try? FileManager.default.removeItem(at: directory) }
        let redis = backend == "redis" ? try RedisServer() : nil
        let upstream = try ScriptedUpstream(.answer(404, "User not found"))
        defer { upstream.stop() }
        let adminPort = try FreePort.pick()
        let auditPath = directory.appendingPathComponent("audit.jsonl").path
        let config = try base.adminConfig(upstream: upstream.url, redis: redis, directory: directory, adminPort: adminPort,
                                          moreYAML: "audit: { path: \(auditPath) }", moreSites: """
                                            - id: news-portal
                                              key_sha256: "\(SiteKeys.sha256Hex(Self.newsKey))"
                                              upstream_token: { env: JUSTGATE_REDIS_OUTBOX_TOKEN }
                                              defer: [subscribe.email]
                                          """)
        var gateway = try cli.startServe(config: config, environment: base.environment)
        defer { _ = gateway.stop() }
        let port = try #require(gateway.port, "\(gateway.log)")

        func admin(_ method: String, _ path: String) throws -> RawHTTPClient.Response {
            try RawHTTPClient(port: adminPort).exchange("\(method) \(path) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        }
        func deferCall(key: String, juid: String) throws -> String {
            let body = "juid=\(juid)&email=a%40example.com"
            let answer = try RawHTTPClient(port: port).exchange("""
                POST /api/user/v1/subscription/subscribe/email HTTP/1.1\r\nHost: localhost\r\nX-AUTH-TOKEN: \(key)\r\n\
                Prefer: respond-async\r\nContent-Type: application/x-www-form-urlencoded\r\n\
                Content-Length: \(body.utf8.count)\r\n\r\n\(body)
                """)
            #expect(answer.status == 202, "\(answer.status) \(answer.text)")
            return String(try #require(answer.header("Location")).dropFirst(RequestDriver.deliveriesPrefix.count))
        }
        func waitFor(_ id: String, attempts: Int) -> String {
            Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"dead\"") && $0.contains("\"attempts\":\(attempts)") }) {
                (try? admin("GET", "/outbox/\(id)").text) ?? ""
            }
        }

        let horoscope = try [1, 2].map { try deferCall(key: RedisOutboxTests.siteKey, juid: RedisOutboxTests.juid($0)) }
        let news = try deferCall(key: Self.newsKey, juid: RedisOutboxTests.juid(3))
        for id in horoscope + [news] { #expect(waitFor(id, attempts: 1).contains("\"attempts\":1")) }

        let newsDead = try admin("GET", "/outbox?state=dead&site=news-portal").text
        #expect(newsDead.contains(news) && !horoscope.contains { newsDead.contains($0) }, "\(newsDead)")
        let horoscopeDead = try admin("GET", "/outbox?state=dead&site=horoscope-daily").text
        #expect(horoscope.allSatisfy { horoscopeDead.contains($0) } && !horoscopeDead.contains(news), "\(horoscopeDead)")
        #expect(try admin("GET", "/outbox?state=pending&site=news-portal").text == "{\"entries\":[]}")

        let replay = try admin("POST", "/outbox/retry?site=horoscope-daily")
        #expect(replay.status == 200 && replay.text == "retried 2 dead entries of site horoscope-daily: pending again, due now\n",
                "\(replay.text)")
        for id in horoscope { #expect(waitFor(id, attempts: 2).contains("\"attempts\":2")) }
        #expect(try admin("GET", "/outbox/\(news)").text.contains("\"attempts\":1"))   // the other site's is left alone

        let all = try admin("POST", "/outbox/retry")
        #expect(all.status == 200 && all.text == "retried 3 dead entries: pending again, due now\n", "\(all.text)")
        #expect(waitFor(news, attempts: 2).contains("\"attempts\":2"))

        let audit = Polling.read(timeoutSeconds: 5, until: { $0.components(separatedBy: "\"outcome\":\"retried\"").count == 6 }) {
            (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        }
        let retries = audit.split(separator: "\n").filter { $0.contains("\"outcome\":\"retried\"") }
        #expect(retries.count == 5, "\(audit)")
        #expect(retries.allSatisfy { $0.contains("\"reason\":\"operator\"") && $0.contains("\"client\":\"127.0.0.1") })
    }
}
