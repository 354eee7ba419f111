import Foundation
import JustGateApp
import JustGateCore
import Logging
import Testing

/// A real gateway on an ephemeral loopback port, usually with the embedded sandbox upstream,
/// built from YAML through the same loader and secret resolver `justgate serve` uses.
final class GatewayFixture {
    static let horoscopeKey = "test-key-horoscope-0123456789abcdef"
    static let newsKey = "test-key-news-fedcba9876543210"
    static let horoscopeToken = "upstream-token-horoscope-S3CRET"
    static let newsToken = "upstream-token-news-S3CRET"

    let runtime: GatewayRuntime
    /// The config and sites the gateway started with, for a test to reload them.
    let config: GatewayConfig
    let sites: [ResolvedSite]
    let logFile: String
    /// The audit log's directory, fresh for each fixture.
    let auditDirectory: String
    var port: Int { runtime.address.port }

    /// - Parameter upstream: "sandbox" or a URL.
    /// - Parameter horoscopeYAML: more keys of the horoscope-daily site (its `limits:`), indented by 4.
    /// - Parameter auditYAML: extra keys of the `audit:` section (its path is always a fresh temporary one).
    init(upstream: String = "sandbox", extraYAML: String = "", serverYAML: String = "", upstreamYAML: String = "",
         horoscopeYAML: String = "", auditYAML: String = "", auditKey: [UInt8]? = nil, auditDirectory: String? = nil,
         timeoutMs: Int = 10000, workers: Int = 2, sandboxOutage: SandboxOutage? = nil,
         wallClock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }) throws {
        self.auditDirectory = auditDirectory ?? NSTemporaryDirectory() + "justgate-audit-\(UUID().uuidString)"
        let yaml = """
            listen: 127.0.0.1:0
            upstream:
              url: \(upstream)
              connect_timeout_ms: \(min(2000, timeoutMs))
              timeout_ms: \(timeoutMs)
            \(upstreamYAML)
            server:
              workers: \(workers)
            \(serverYAML)
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey))"
                upstream_token: { env: TEST_TOKEN_HOROSCOPE }
                phone: { default_country_code: "7", trunk_prefix: "8" }
                \(horoscopeYAML.replacingOccurrences(of: "\n", with: "\n    "))
              - id: news-portal
                key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.newsKey))"
                upstream_token: { env: TEST_TOKEN_NEWS }
            \(extraYAML)
            audit:
              path: \(self.auditDirectory)/audit.jsonl
            \(auditYAML)
            """
        let loaded = try ConfigLoader.load(yaml: yaml, knownOperations: Catalogue().ids).get()
        let environment = FixedSecretEnvironment(values: [
            "TEST_TOKEN_HOROSCOPE": GatewayFixture.horoscopeToken,
            "TEST_TOKEN_NEWS": GatewayFixture.newsToken,
        ])
        let sites = try SecretResolver.resolve(loaded.config.sites, environment: environment).get()
        logFile = NSTemporaryDirectory() + "justgate-test-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logFile, contents: nil)
        let handle = open(logFile, O_WRONLY | O_APPEND)
        let sink = LogSink(fd: handle)
        var logger = Logger(label: "justgate-test") { JSONLogHandler(label: $0, level: .trace, sink: sink) }
        logger.logLevel = .trace
        config = loaded.config
        self.sites = sites
        runtime = try GatewayRuntime(config: loaded.config, sites: sites, logger: logger, requestLogSink: sink,
                                     auditKey: auditKey, wallClock: wallClock, sandboxOutage: sandboxOutage)
    }

    deinit {
        runtime.stop()
        try? FileManager.default.removeItem(atPath: logFile)
        try? FileManager.default.removeItem(atPath: auditDirectory)
    }

    /// The audit log's live file as text.
    func auditText() -> String { (try? String(contentsOfFile: auditDirectory + "/audit.jsonl", encoding: .utf8)) ?? "" }

    func client() throws -> RawHTTPClient { try RawHTTPClient(port: port) }

    /// Everything the gateway logged so far.
    func logText() -> String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// The log once it contains `text` (lines are written after the answer and in batches), or
    /// whatever it holds after `timeoutSeconds`.
    func logText(containing text: String, timeoutSeconds: Double = 3) -> String {
        Polling.read(timeoutSeconds: timeoutSeconds, until: { $0.contains(text) }, logText)
    }

    /// Sends one request with the horoscope site's key (unless `key` says otherwise).
    func send(_ method: String, _ target: String, key: String? = GatewayFixture.horoscopeKey,
              contentType: String? = nil, body: String = "", headers: [String] = []) throws -> RawHTTPClient.Response {
        var raw = "\(method) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        if let key { raw += "X-AUTH-TOKEN: \(key)\r\n" }
        if let contentType { raw += "Content-Type: \(contentType)\r\n" }
        for header in headers { raw += header + "\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { raw += "Content-Length: \(body.utf8.count)\r\n" }
        raw += "\r\n" + body
        return try client().exchange(raw)
    }
}

struct FixedSecretEnvironment: SecretEnvironment {
    var values: [String: String]
    var files: [String: String] = [:]

    func environmentValue(_ name: String) -> String? { values[name] }

    func fileContents(_ path: String) throws -> String {
        guard let text = files[path] else { throw CocoaError(.fileNoSuchFile) }
        return text
    }
}
