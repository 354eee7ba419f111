import Foundation
import JustGateCore
import Testing

/// Reloads and stops of a real `justgate serve`: rotated tokens reach the upstream on the next
/// call, a bad config changes nothing, limits keep their counts, many reloads under load lose
/// nothing, and SIGTERM lets the requests in flight finish.
@Suite(.serialized)
struct ReloadAndShutdownTests {
    static let segments = "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b"
    let cli = CommandLineTests()

    /// A config file and a token file in a fresh folder, for a serve process pointed at `upstream`.
    struct Files {
        let directory: String
        var config: String { directory + "/justgate.yaml" }
        var token: String { directory + "/token" }

        init(upstream: String, extraYAML: String = "", limits: String = "") throws {
            directory = NSTemporaryDirectory() + "justgate-reload-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try "token-one\n".write(toFile: directory + "/token", atomically: true, encoding: .utf8)
            try write(upstream: upstream, extraYAML: extraYAML, limits: limits)
        }

        func write(upstream: String, extraYAML: String = "", limits: String = "") throws {
            try """
                listen: 127.0.0.1:0
                admin_listen: 127.0.0.1:0
                upstream: { url: "\(upstream)" }
                server: { workers: 2 }
                \(extraYAML)
                sites:
                  - id: horoscope-daily
                    key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey))"
                    upstream_token: { file: \(token) }
                \(limits)
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    func get(_ port: Int, _ target: String = ReloadAndShutdownTests.segments) throws -> RawHTTPClient.Response {
        try RawHTTPClient(port: port, timeoutSeconds: 10).exchange(
            "GET \(target) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
    }

    func adminPort(_ serve: CommandLineTests.RunningServe) -> Int? {
        serve.log.range(of: "\"admin_listen\":\"127.0.0.1:").flatMap { Int(serve.log[$0.upperBound...].prefix { $0.isNumber }) }
    }

    func postReload(_ port: Int) throws -> RawHTTPClient.Response {
        try RawHTTPClient(port: port).exchange("POST /reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    }

    @Test func aRotatedTokenFileReachesTheUpstreamOnTheVeryNextCall() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let files = try Files(upstream: "http://127.0.0.1:\(upstream.port)")
        defer { files.remove() }
        var serve = try cli.startServe(config: files.config, environment: [:])
        defer { _ = serve.stop() }
        let port = try #require(serve.port, "\(serve.log)")
        #expect(try get(port).status == 200)
        try "token-two\n".write(toFile: files.token, atomically: true, encoding: .utf8)
        serve.process.signal(SIGHUP)
        serve.log += serve.process.readStderr(until: "config reloaded", timeoutSeconds: 5)
        #expect(try get(port).status == 200)
        let tokens = upstream.requests.map { $0.headers["x-auth-token"] }
        #expect(tokens == ["token-one", "token-two"])
    }

    @Test func aBadConfigKeepsTheOldOneServing() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let files = try Files(upstream: "http://127.0.0.1:\(upstream.port)")
        defer { files.remove() }
        var serve = try cli.startServe(config: files.config, environment: [:])
        defer { _ = serve.stop() }
        let port = try #require(serve.port, "\(serve.log)")
        let admin = try #require(adminPort(serve), "\(serve.log)")
        try "listen: [this is not\n".write(toFile: files.config, atomically: true, encoding: .utf8)
        let refused = try postReload(admin)
        #expect(refused.status == 422)
        #expect(refused.text.contains("still serving the previous config"))
        // A missing token file is as bad as broken YAML.
        try files.write(upstream: "http://127.0.0.1:\(upstream.port)")
        try FileManager.default.removeItem(atPath: files.token)
        #expect(try postReload(admin).status == 422)
        #expect(try get(port).status == 200)
        #expect(upstream.requests.last?.headers["x-auth-token"] == "token-one")
        let metrics = try RawHTTPClient(port: admin).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text
        #expect(PrometheusText.sum(try PrometheusText.parse(metrics), "justgate_reloads_total", where: ["result": "failed"]) == 2)
    }

    @Test func rateLimitCountsSurviveAReloadOfAnUnchangedPolicy() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let limits = """
                limits:
                  - { name: one-per-hour, scope: site, rate: 1/h }
            """
        let files = try Files(upstream: "http://127.0.0.1:\(upstream.port)", limits: limits)
        defer { files.remove() }
        var serve = try cli.startServe(config: files.config, environment: [:])
        defer { _ = serve.stop() }
        let port = try #require(serve.port, "\(serve.log)")
        let admin = try #require(adminPort(serve), "\(serve.log)")
        #expect(try get(port).status == 200)
        #expect(try postReload(admin).status == 200)
        #expect(try get(port).status == 429)
        // A changed policy starts afresh.
        try files.write(upstream: "http://127.0.0.1:\(upstream.port)", limits: limits.replacingOccurrences(of: "1/h", with: "2/h"))
        #expect(try postReload(admin).status == 200)
        #expect(try get(port).status == 200)
    }

    @Test func aThousandReloadsUnderLoadLoseNoRequestAndLeaveMemoryFlat() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let files = try Files(upstream: "http://127.0.0.1:\(upstream.port)")
        defer { files.remove() }
        var serve = try cli.startServe(config: files.config, environment: [:])
        defer { _ = serve.stop() }
        let port = try #require(serve.port, "\(serve.log)")
        let admin = try #require(adminPort(serve), "\(serve.log)")
        let load = LoadLoop(port: port, target: Self.segments, key: GatewayFixture.horoscopeKey)
        load.start()
        var rssAfterWarmUp = 0
        for round in 1...1000 {
            #expect(try postReload(admin).status == 200)
            if round == 100 { rssAfterWarmUp = residentKiB(serve.process.pid) }
            // Each reload logs a line: keep the stderr pipe drained so the gateway never waits on it.
            if round % 50 == 0 { _ = serve.process.readStderr(until: "\u{0}", timeoutSeconds: 0.01) }
        }
        let answered = load.stop()
        let rssAtEnd = residentKiB(serve.process.pid)
        #expect(answered.failures == 0, "\(answered.failures) of \(answered.total) requests failed during reloads")
        #expect(answered.total > 50)
        // 900 more reloads may not leave more than 4 MiB behind.
        #expect(rssAtEnd - rssAfterWarmUp < 4096, "RSS grew from \(rssAfterWarmUp) KiB to \(rssAtEnd) KiB")
    }

    @Test func sigtermLetsTheRequestInFlightFinish() throws {
        let upstream = try CapturingUpstream(answerDelayMs: 700)
        defer { upstream.stop() }
        let files = try Files(upstream: "http://127.0.0.1:\(upstream.port)", extraYAML: "shutdown: { grace_ms: 5000 }")
        defer { files.remove() }
        var serve = try cli.startServe(config: files.config, environment: [:])
        defer { try? FileManager.default.removeItem(atPath: serve.directory) }  // stopped by hand below, not by stop()
        let port = try #require(serve.port, "\(serve.log)")
        let client = try RawHTTPClient(port: port, timeoutSeconds: 10)
        try client.send("GET \(Self.segments) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
        usleep(200_000)
        serve.process.signal(SIGTERM)
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(response.text == "ok")
        // Wait for the exit without a second signal (which would end the process at once).
        serve.log += serve.process.readToEnd().stderr
        #expect(serve.process.wait() == 0)
        #expect(serve.log.contains("\"message\":\"stopped\""))
    }

    private func residentKiB(_ pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}

/// Requests one after another on fresh connections from a background thread, counting failures.
final class LoadLoop: @unchecked Sendable {
    // @unchecked: `running`, `total` and `failures` are only touched under `lock`.
    private let port: Int
    private let target: String
    private let key: String
    private let lock = NSLock()
    private var running = true
    private var total = 0
    private var failures = 0
    private let done = DispatchSemaphore(value: 0)

    init(port: Int, target: String, key: String) {
        self.port = port
        self.target = target
        self.key = key
    }

    func start() {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let status = (try? RawHTTPClient(port: port).exchange(
                    "GET \(target) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(key)\r\n\r\n").status) ?? 0
                lock.withLock {
                    total += 1
                    if status != 200 { failures += 1 }
                }
            }
            done.signal()
        }
    }

    func stop() -> (total: Int, failures: Int) {
        lock.withLock { running = false }
        done.wait()
        return lock.withLock { (total, failures) }
    }
}
