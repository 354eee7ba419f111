import Foundation
import JustGateCore
import Testing

/// Issue 21, item 13: secret files others may read, a CA file that is not there, and sandbox tokens kept out
/// of `ps`. Run as the real binary.
@Suite(.serialized)
struct CarelessOperatorTests {
    let cli = CommandLineTests()
    static let token = "careless-upstream-token-CONTENT"

    /// A config whose site token and audit key are files in a fresh directory, both at `mode`.
    func configWithSecretFiles(mode: Int) throws -> (config: String, directory: String) {
        let directory = try SystemTools.temporaryDirectory(prefix: "justgate-careless").path
        try Self.token.write(toFile: directory + "/site.token", atomically: false, encoding: .utf8)
        try "careless-audit-key-0123456789abcdef".write(toFile: directory + "/audit.key", atomically: false, encoding: .utf8)
        chmod(directory + "/site.token", mode_t(mode))
        chmod(directory + "/audit.key", mode_t(mode))
        let config = try cli.writeTemporary("""
            listen: 127.0.0.1:0
            upstream: { url: sandbox }
            sites:
              - id: careless-site
                key_sha256: "\(SiteKeys.sha256Hex("careless-key"))"
                upstream_token: { file: \(directory)/site.token }
            audit:
              path: \(directory)/audit/audit.jsonl
              hmac_key: { file: \(directory)/audit.key }
            """)
        return (config, directory)
    }

    @Test func secretFilesOthersMayReadAreWarnedAboutByCheckConfigAndAtStart() throws {
        let (open, openDirectory) = try configWithSecretFiles(mode: 0o644)
        defer { try? FileManager.default.removeItem(atPath: openDirectory) }
        let checked = try cli.run(["check-config", "--config", open])
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(checked.stdout.contains("warning: sites[0].upstream_token: site 'careless-site': token file \(openDirectory)/site.token is readable by its group and all other users (mode 0644)"),
                "\(checked.stdout)")
        #expect(checked.stdout.contains("warning: audit.hmac_key: audit key file \(openDirectory)/audit.key is readable by its group and all other users (mode 0644)"))
        #expect(checked.stdout.contains("2 warnings"))
        #expect(!checked.stdout.contains(Self.token) && !checked.stderr.contains(Self.token))

        var serve = try cli.startServe(config: open, environment: [:])
        #expect(serve.stop() == 0)
        #expect(serve.log.contains("token file \(openDirectory)/site.token is readable by its group and all other users (mode 0644)"), "\(serve.log)")
        #expect(!serve.log.contains(Self.token))

        let (closed, closedDirectory) = try configWithSecretFiles(mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: closedDirectory) }
        let quiet = try cli.run(["check-config", "--config", closed])
        #expect(quiet.status == 0 && !quiet.stdout.contains("readable by"), "\(quiet.stdout)")
    }

    /// A missing CA file used to be a 502 on every request; now check-config and serve refuse it.
    @Test func aMissingCAFileIsAConfigErrorNotA502() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "justgate-careless").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func config(caFile: String) throws -> String {
            try cli.writeTemporary("""
                listen: 127.0.0.1:0
                upstream: { url: "https://127.0.0.1:9", ca_file: "\(caFile)" }
                sites:
                  - id: tls-site
                    key_sha256: "\(SiteKeys.sha256Hex("tls-key"))"
                    upstream_token: { value: "t" }
                audit: { path: \(directory)/audit.jsonl }
                """)
        }
        let missing = try config(caFile: directory + "/no-such-ca.pem")
        let checked = try cli.run(["check-config", "--config", missing])
        #expect(checked.status == 1)
        #expect(checked.stderr.contains("upstream.ca_file: \(directory)/no-such-ca.pem: No such file or directory"), "\(checked.stderr)")
        let served = try cli.run(["serve", "--config", missing])
        #expect(served.status == 2)
        #expect(served.stderr.contains("upstream.ca_file"), "\(served.stderr)")

        try "not a certificate\n".write(toFile: directory + "/wrong.pem", atomically: false, encoding: .utf8)
        let wrong = try cli.run(["check-config", "--config", try config(caFile: directory + "/wrong.pem")])
        #expect(wrong.status == 1 && wrong.stderr.contains("holds no PEM certificate"), "\(wrong.stderr)")
    }

    /// `sandbox --token-file` and `--token-env`: tokens that `ps` does not show.
    @Test func sandboxTakesTokensFromAFileAndAnEnvironmentVariable() throws {
        let directory = try SystemTools.temporaryDirectory(prefix: "justgate-careless").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "# sandbox tokens\nfile-token-one\n\n  file-token-two  \n".write(toFile: directory + "/tokens", atomically: false, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["SANDBOX_TOKENS"] = "env-token"
        let process = try ChildProcess(CommandLineTests.binary.path, [
            "sandbox", "--listen", "127.0.0.1:0", "--token-file", directory + "/tokens", "--token-env", "SANDBOX_TOKENS",
        ], environment: environment)
        defer {
            process.signal(SIGTERM)
            _ = process.wait()
        }
        let log = process.readStderr(until: "listening on", timeoutSeconds: 10)
        #expect(log.contains("(3 tokens)"), "\(log)")
        let port = try #require(log.range(of: "listening on http://127.0.0.1:").flatMap {
            Int(log[$0.upperBound...].prefix { $0.isNumber })
        }, "\(log)")
        for (token, status) in [("file-token-one", 200), ("file-token-two", 200), ("env-token", 200), ("sandbox-token", 401)] {
            let created = try RawHTTPClient(port: port).exchange(
                "POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(token)\r\nContent-Length: 0\r\n\r\n")
            #expect(created.status == status, "\(token)")
        }

        let unset = try cli.run(["sandbox", "--token-env", "JUSTGATE_TEST_UNSET_TOKENS"])
        #expect(unset.status != 0 && unset.stderr.contains("--token-env JUSTGATE_TEST_UNSET_TOKENS"), "\(unset.stderr)")
        let help = try cli.run(["sandbox", "--help"])
        #expect(help.stdout.contains("--token-file") && help.stdout.contains("--token-env"))
    }
}
