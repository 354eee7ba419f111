import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// An operator's retry (`POST /outbox/<id>/retry`) and the bytes the outbox counts against `max_bytes`, on both
/// backends with the real binary: a dead entry retried is counted once (not added again on top of what it
/// counted while dead), a drop takes off exactly its entry, a delivery takes the rest, and nothing goes below
/// zero, in the outbox's own count and in `justgate_outbox_bytes`.
@Suite(.serialized)
struct OutboxRetryBytesTests {
    let base = RedisOutboxTests()
    var cli: CommandLineTests { base.cli }

    /// Every answer's body is 14 bytes, so an entry's accounted size (its last answer's body included) is the
    /// same whichever answer it holds, and two entries of the same shape count the same.
    static let notFound = "User not found"
    static let down = "Upstream down!"

    @Test(arguments: ["file", "redis"])
    func aRetriedDeadEntryIsCountedOnceThroughDropAndDelivery(backend: String) throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "jg-retry-bytes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let redis = backend == "redis" ? try RedisServer() : nil
        let upstream = try ScriptedUpstream(.answer(404, Self.notFound))
        defer { upstream.stop() }
        let adminPort = try FreePort.pick()
        let config = try base.adminConfig(upstream: upstream.url, redis: redis, directory: directory, adminPort: adminPort)
        var gateway = try cli.startServe(config: config, environment: base.environment)
        defer { _ = gateway.stop() }
        let port = try #require(gateway.port, "\(gateway.log)")

        func admin(_ method: String, _ path: String) throws -> RawHTTPClient.Response {
            try RawHTTPClient(port: adminPort).exchange("\(method) \(path) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        }
        func scraped() -> Int? {
            let text = (try? admin("GET", "/metrics").text) ?? ""
            return text.split(separator: "\n").first { $0.hasPrefix("justgate_outbox_bytes ") }
                .flatMap { Int($0.dropFirst("justgate_outbox_bytes ".count)) }
        }
        /// The outbox's own count, read where it lives: Redis's `bytes` key (at once; `/metrics` reads it every
        /// 5 s), or the file backend's, which `/metrics` shows as it is.
        func counted() throws -> Int? {
            guard let redis else { return scraped() }
            let reply = try redis.command("EVAL \"return tonumber(redis.call('GET', KEYS[1]) or '0')\" 1 jg:ob:{jg-outbox}:bytes")
            return Int(reply.dropFirst())
        }
        func waitForState(_ id: String, _ state: String, status: Int) -> String {
            Polling.read(timeoutSeconds: 10, until: { $0.contains("\"state\":\"\(state)\"") && $0.contains("\"upstream_status\":\(status)") }) {
                (try? admin("GET", "/outbox/\(id)").text) ?? ""
            }
        }

        var ids: [String] = []
        for number in 1...2 {
            let accepted = try base.send(port, "POST", "/api/user/v1/subscription/subscribe/email",
                                         body: "juid=\(RedisOutboxTests.juid(number))&email=a%40example.com",
                                         headers: ["Prefer: respond-async"])
            #expect(accepted.status == 202, "\(accepted.status) \(accepted.text)")
            let location = try #require(accepted.header("Location"))
            let id = String(location.dropFirst(RequestDriver.deliveriesPrefix.count))
            let dead = waitForState(id, "dead", status: 404)
            #expect(dead.contains("\"state\":\"dead\""), "\(dead)")
            ids.append(id)
        }
        // Two dead entries of one shape: each counts half.
        let bothDead = try #require(try counted())
        #expect(bothDead > 0)

        // Retried while the upstream is down: pending again, tried, and still counted once.
        upstream.behaviour = .answer(503, Self.down)
        #expect(try admin("POST", "/outbox/\(ids[0])/retry").status == 200)
        let retried = waitForState(ids[0], "pending", status: 503)
        #expect(retried.contains("\"state\":\"pending\""), "\(retried)")
        #expect(try counted() == bothDead, "after the retry and its attempt")
        #expect(try admin("POST", "/outbox/\(ids[0])/retry").status == 409, "only a dead entry is retried")
        #expect(try counted() == bothDead, "after a refused retry")

        // Dropping the other dead entry takes off exactly its half.
        #expect(try admin("DELETE", "/outbox/\(ids[1])").status == 200)
        let oneLeft = try #require(try counted())
        #expect(oneLeft * 2 == bothDead, "\(oneLeft) left of \(bothDead)")
        let scrapedOne = Polling.read(timeoutSeconds: 15, until: { $0 == oneLeft }) { scraped() }
        #expect(scrapedOne == oneLeft, "justgate_outbox_bytes \(String(describing: scrapedOne)), counted \(oneLeft)")

        // Delivered: nothing is counted; dropping the delivered entry takes nothing more off.
        upstream.behaviour = .answer(200, "ok")
        let delivered = waitForState(ids[0], "delivered", status: 200)
        #expect(delivered.contains("\"state\":\"delivered\""), "\(delivered)")
        #expect(try counted() == 0)
        #expect(try admin("DELETE", "/outbox/\(ids[0])").status == 200)
        #expect(try counted() == 0, "below zero after dropping a delivered entry")
        let scrapedNone = Polling.read(timeoutSeconds: 15, until: { $0 == 0 }) { scraped() }
        #expect(scrapedNone == 0, "justgate_outbox_bytes \(String(describing: scrapedNone))")
    }
}
