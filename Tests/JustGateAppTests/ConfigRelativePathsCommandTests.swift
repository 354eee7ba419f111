import Foundation
import JustGateCore
import Testing

/// Relative paths written in a config resolve against the config file's directory, whatever directory
/// `serve`, `check-config`, a reload or the audit commands run in.
@Suite(.serialized)
struct ConfigRelativePathsCommandTests {
    let cli = CommandLineTests()

    /// A config directory holding the config, its token, keys, CA bundle and audit log, all named relatively.
    struct Files {
        let directory: String
        var config: String { directory + "/justgate.yaml" }
        var token: String { directory + "/tokens/site.token" }

        init(upstreamPort: Int) throws {
            directory = try SystemTools.temporaryDirectory(prefix: "justgate-relative").path
            for folder in ["tokens", "keys", "ca"] {
                try FileManager.default.createDirectory(atPath: directory + "/" + folder, withIntermediateDirectories: true)
            }
            try TestCertificates.make(in: directory + "/ca")
            try write("token-one", to: token)
            try write("relative-audit-key-0123456789", to: directory + "/keys/audit.key")
            try write("relative-ratelimit-secret-0123456789", to: directory + "/keys/ratelimit.key")
            try """
                listen: 127.0.0.1:0
                upstream: { url: "http://127.0.0.1:\(upstreamPort)", ca_file: ca/ca.pem }
                sites:
                  - id: horoscope-daily
                    key_sha256: "\(SiteKeys.sha256Hex(GatewayFixture.horoscopeKey))"
                    upstream_token: { file: tokens/site.token }
                audit:
                  path: logs/audit.jsonl
                  hmac_key: { file: ./keys/audit.key }
                rate_limit:
                  key_secret: { file: keys/ratelimit.key }
                """.write(toFile: config, atomically: true, encoding: .utf8)
        }

        func write(_ secret: String, to path: String) throws {
            try (secret + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    func get(_ port: Int) throws -> RawHTTPClient.Response {
        try RawHTTPClient(port: port, timeoutSeconds: 10).exchange(
            "GET \(ReloadAndShutdownTests.segments) HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
    }

    /// Before, serve looked for tokens/site.token in its working directory and refused to start.
    @Test func serveFromAnotherWorkingDirectoryUsesThePathsNextToTheConfig() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let files = try Files(upstreamPort: upstream.port)
        defer { files.remove() }
        var serve = try cli.startServe(config: files.config, environment: [:])
        let port = try #require(serve.port, "\(serve.log)")
        #expect(try get(port).status == 200)
        #expect(serve.stop() == 0, "\(serve.log)")
        #expect(upstream.requests.map { $0.headers["x-auth-token"] } == ["token-one"])
        #expect(FileManager.default.fileExists(atPath: files.directory + "/logs/audit.jsonl"))
        #expect(!FileManager.default.fileExists(atPath: serve.directory + "/logs"))
        // The audit commands find the log and its key through the same config, from the repository root.
        let verify = try cli.run(["audit", "verify", "--config", files.config])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("HMAC"), "\(verify.stdout)")
    }

    @Test func aReloadReadsTheRotatedTokenNextToTheConfig() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let files = try Files(upstreamPort: upstream.port)
        defer { files.remove() }
        var serve = try cli.startServe(config: files.config, environment: [:])
        defer { _ = serve.stop() }
        let port = try #require(serve.port, "\(serve.log)")
        #expect(try get(port).status == 200)
        try files.write("token-two", to: files.token)
        serve.process.signal(SIGHUP)
        serve.log += serve.process.readStderr(until: "config reloaded", timeoutSeconds: 5)
        #expect(serve.log.contains("config reloaded"), "\(serve.log)")
        #expect(try get(port).status == 200)
        #expect(upstream.requests.map { $0.headers["x-auth-token"] } == ["token-one", "token-two"])
    }

    @Test func checkConfigSaysWhereEachPathResolvesAndWhy() throws {
        let files = try Files(upstreamPort: 9)
        defer { files.remove() }
        let outcome = try cli.run(["check-config", "--config", files.config])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        let why = "(relative to the config file's directory)"
        for (key, written, resolved) in [
            ("sites[0].upstream_token.file", "tokens/site.token", "tokens/site.token"),
            ("upstream.ca_file", "ca/ca.pem", "ca/ca.pem"),
            ("audit.path", "logs/audit.jsonl", "logs/audit.jsonl"),
            ("audit.hmac_key.file", "./keys/audit.key", "keys/audit.key"),
            ("rate_limit.key_secret.file", "keys/ratelimit.key", "keys/ratelimit.key"),
        ] {
            #expect(outcome.stdout.contains("\(key) \(written) resolves to \(files.directory)/\(resolved) \(why)"),
                    "\(outcome.stdout)")
        }
    }
}
