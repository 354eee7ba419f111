import Foundation
import JustGateCore
import Testing

/// Reloads are records in the audit chain (`event: reload`): a real `justgate serve` reloaded by SIGHUP and by
/// `POST /reload`, with a token rotated, a key added and a broken config refused; the chain still verifies,
/// `audit query --event reload` shows each with who asked and what changed, and no token value is in the file.
@Suite(.serialized)
struct ReloadAuditTests {
    let cli = CommandLineTests()
    let shared = ReloadAndShutdownTests()

    /// A config with an audit log of its own and the horoscope site's keys.
    func writeConfig(_ files: ReloadAndShutdownTests.Files, upstream: String, keys: [String]) throws {
        let keyLines = keys.map { "      - sha256: \"\(SiteKeys.sha256Hex($0))\"" }.joined(separator: "\n")
        try """
            listen: 127.0.0.1:0
            admin_listen: 127.0.0.1:0
            upstream: { url: "\(upstream)" }
            server: { workers: 2 }
            audit: { path: "\(files.directory)/audit/audit.jsonl" }
            sites:
              - id: horoscope-daily
                keys:
            \(keyLines)
                upstream_token: { file: \(files.token) }
            """.write(toFile: files.config, atomically: true, encoding: .utf8)
    }

    @Test func signalAndAdminReloadsAreChainedRecordsThatNameWhatChanged() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let url = "http://127.0.0.1:\(upstream.port)"
        let files = try ReloadAndShutdownTests.Files(upstream: url)
        defer { files.remove() }
        try writeConfig(files, upstream: url, keys: [GatewayFixture.horoscopeKey])
        var serve = try cli.startServe(config: files.config, environment: [:])
        defer { _ = serve.stop() }
        let port = try #require(serve.port, "\(serve.log)")
        let admin = try #require(shared.adminPort(serve), "\(serve.log)")
        #expect(try shared.get(port).status == 200)

        // 1. SIGHUP after a token rotation.
        try "token-two\n".write(toFile: files.token, atomically: true, encoding: .utf8)
        serve.process.signal(SIGHUP)
        serve.log += serve.process.readStderr(until: "config reloaded", timeoutSeconds: 5)
        // 2. A broken config, refused by POST /reload.
        try "listen: [this is not\n".write(toFile: files.config, atomically: true, encoding: .utf8)
        #expect(try shared.postReload(admin).status == 422)
        // 3. A second key, applied by POST /reload.
        try writeConfig(files, upstream: url, keys: [GatewayFixture.horoscopeKey, "a-brand-new-site-key"])
        #expect(try shared.postReload(admin).status == 200)
        #expect(try shared.get(port).status == 200)
        #expect(serve.stop() == 0)

        let auditFile = files.directory + "/audit/audit.jsonl"
        let query = try cli.run(["audit", "query", "--file", auditFile, "--event", "reload"])
        #expect(query.status == 0, "\(query.stderr)")
        let records = query.stdout.split(separator: "\n").map { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
        }
        try #require(records.count == 3, "\(query.stdout)")
        let oldToken = UpstreamTokenFingerprint.of("token-one")
        let newToken = UpstreamTokenFingerprint.of("token-two")
        let newKey = SiteKey(sha256: SiteKeys.sha256("a-brand-new-site-key")).fingerprint
        #expect(records[0]["event"] as? String == "reload")
        #expect(records[0]["client"] as? String == "signal")
        #expect(records[0]["outcome"] as? String == "applied")
        #expect(records[0]["note"] as? String
                == "applied by signal (SIGHUP): tokens changed: horoscope-daily \(oldToken) -> \(newToken)")
        #expect(records[1]["client"] as? String == "127.0.0.1")
        #expect(records[1]["outcome"] as? String == "refused")
        #expect((records[1]["note"] as? String)?.hasPrefix("refused by admin POST /reload from 127.0.0.1, still serving the previous config: ") == true)
        #expect(records[2]["outcome"] as? String == "applied")
        #expect(records[2]["note"] as? String
                == "applied by admin POST /reload from 127.0.0.1: keys added: horoscope-daily \(newKey)")

        // Request records are still what query prints by default; --event all prints every line.
        let requests = try cli.run(["audit", "query", "--file", auditFile])
        #expect(requests.stdout.split(separator: "\n").count == 2)
        let all = try cli.run(["audit", "query", "--file", auditFile, "--event", "all", "--format", "table"])
        #expect(all.stdout.contains("reload applied") && all.stdout.contains("signal: applied by signal"))
        let wrong = try cli.run(["audit", "query", "--file", auditFile, "--event", "reloads"])
        #expect(wrong.status != 0 && wrong.stderr.contains("request, chain_start, chain_restart, reload, secret_rotated, delivery, all"))

        let verify = try cli.run(["audit", "verify", "--file", auditFile])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let text = try String(contentsOfFile: auditFile, encoding: .utf8)
        #expect(!text.contains("token-one") && !text.contains("token-two") && !text.contains("a-brand-new-site-key"))
    }
}
