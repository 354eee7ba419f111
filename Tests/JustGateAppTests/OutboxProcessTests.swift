import Foundation
@testable import JustGateApp
import JustGateCore
import JustGateReactor
import JustGateSandbox
import Testing

/// The built `justgate` binary with an outbox (issue 25): a call deferred by `justgate serve` survives
/// `kill -9` of that process and is delivered by the next one; `justgate outbox` shows it over the admin listener.
@Suite(.serialized)
struct OutboxProcessTests {
    let cli = CommandLineTests()
    static let siteKey = "outbox-process-site-key-0123456789"
    static let token = "outbox-process-upstream-token"

    func config(upstream: String, adminPort: Int, outbox: String) throws -> String {
        try cli.writeTemporary("""
            listen: 127.0.0.1:0
            admin_listen: 127.0.0.1:\(adminPort)
            upstream: { url: "\(upstream)", timeout_ms: 2000, connect_timeout_ms: 1000 }
            outbox: { path: \(outbox), retry_ms: [200] }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(Self.siteKey))"
                upstream_token: { env: JUSTGATE_OUTBOX_TEST_TOKEN }
                defer: [subscribe.email]
            """)
    }

    var environment: [String: String] { ["JUSTGATE_OUTBOX_TEST_TOKEN": Self.token] }

    func send(_ port: Int, _ method: String, _ target: String, body: String = "") throws -> RawHTTPClient.Response {
        var raw = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\nX-AUTH-TOKEN: \(Self.siteKey)\r\n"
        if !body.isEmpty { raw += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n" }
        return try RawHTTPClient(port: port).exchange(raw + "\r\n" + body)
    }

    @Test func aDeferredCallSurvivesKill9AndIsDeliveredAfterRestart() throws {
        let outbox = try SystemTools.temporaryDirectory(prefix: "jg-outbox-process")
        defer { try? FileManager.default.removeItem(at: outbox) }
        let sandbox = try SandboxServer(listen: #require(SocketAddress(host: "127.0.0.1", port: 0)), tokens: [Self.token])
        defer { sandbox.stop() }
        let juid = sandbox.api.handle(SandboxRequest(method: "POST", path: "/api/user/v1/subscription/create/profile",
                                                     form: [("ip", "8.8.8.8")], token: Self.token))
            .body.trimmingCharacters(in: .whitespacesAndNewlines)
        let adminPort = try FreePort.pick()
        // First life: the upstream is down (nothing listens on port 1).
        let down = try config(upstream: "http://127.0.0.1:1", adminPort: adminPort, outbox: outbox.path)
        let first = try cli.startServe(config: down, environment: environment)
        let firstPort = try #require(first.port, "\(first.log)")
        let accepted = try send(firstPort, "POST", "/api/user/v1/subscription/subscribe/email",
                                body: "juid=\(juid)&email=a%40example.com")
        #expect(accepted.status == 202, "\(accepted.text)")
        let location = try #require(accepted.header("Location"))
        let id = String(location.dropFirst(RequestDriver.deliveriesPrefix.count))

        let listed = try cli.run(["outbox", "list", "--config", down])
        #expect(listed.status == 0 && listed.stdout.contains(id) && listed.stdout.contains("pending")
                && listed.stdout.contains("subscribe.email"), "\(listed.stdout)\(listed.stderr)")
        let shown = try cli.run(["outbox", "show", id, "--config", down])
        #expect(shown.status == 0 && shown.stdout.contains("\"id\":\"\(id)\""), "\(shown.stdout)\(shown.stderr)")
        let notDead = try cli.run(["outbox", "retry", id, "--config", down])
        #expect(notDead.status == 1 && notDead.stderr.contains("only a dead entry can be retried"), "\(notDead.stderr)")
        let badID = try cli.run(["outbox", "show", "../keys", "--config", down])
        #expect(badID.status != 0 && badID.stderr.contains("not an outbox entry id"), "\(badID.stderr)")

        first.process.signal(SIGKILL)
        _ = first.process.wait()
        if first.removesDirectory { try? FileManager.default.removeItem(atPath: first.directory) }
        #expect(sandbox.api.receivedRequests().allSatisfy { !$0.path.hasSuffix("/subscribe/email") })

        // Second life: the upstream is back. The entry is read from disk and delivered.
        let up = try config(upstream: sandbox.baseURL, adminPort: adminPort, outbox: outbox.path)
        var second = try cli.startServe(config: up, environment: environment)
        defer { _ = second.stop() }
        let secondPort = try #require(second.port, "\(second.log)")
        let started = Date()
        let delivered = Polling.read(timeoutSeconds: 20, until: { $0.contains("\"state\":\"delivered\"") }) {
            (try? self.send(secondPort, "GET", location).text) ?? ""
        }
        #expect(delivered.contains("\"state\":\"delivered\"") && delivered.contains("\"upstream_status\":200"),
                "\(delivered) after \(Date().timeIntervalSince(started)) s; \(second.log)")
        print("delivered after restart in \(Date().timeIntervalSince(started)) s")
        let sent = sandbox.api.receivedRequests().filter { $0.path.hasSuffix("/subscribe/email") }
        #expect(sent.count == 1 && sent.first?.token == Self.token)
        let none = try cli.run(["outbox", "list", "--config", up])
        #expect(none.status == 0 && none.stdout.contains("no pending entries"), "\(none.stdout)\(none.stderr)")
        let noneDead = try cli.run(["outbox", "list", "--state", "dead", "--site", "horoscope-daily", "--config", up])
        #expect(noneDead.status == 0 && noneDead.stdout.contains("no dead entries"), "\(noneDead.stdout)\(noneDead.stderr)")
        let replay = try cli.run(["outbox", "retry", "--all-dead", "--site", "horoscope-daily", "--config", up])
        #expect(replay.status == 0 && replay.stdout == "retried 0 dead entries of site horoscope-daily: pending again, due now\n",
                "\(replay.stdout)\(replay.stderr)")
        let badSite = try cli.run(["outbox", "retry", "--all-dead", "--site", "../x", "--config", up])
        #expect(badSite.status != 0 && badSite.stderr.contains("is not a site id"), "\(badSite.stderr)")
    }
}
