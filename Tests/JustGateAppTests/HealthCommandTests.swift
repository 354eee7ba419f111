import Foundation
import JustGateCore
import Testing

/// `justgate health`, the container's HEALTHCHECK, against a real `justgate serve`: 0 while the gateway
/// answers 200 on its admin listener, 1 with a reason an operator can act on otherwise.
@Suite(.serialized)
struct HealthCommandTests {
    let cli = CommandLineTests()
    static let adminToken = "health-command-admin-token-0123456789abcdef"

    func config(adminPort: Int?, tokenHash: String? = nil) throws -> String {
        try cli.writeTemporary("""
            listen: 127.0.0.1:0
            \(adminPort.map { "admin_listen: 127.0.0.1:\($0)" } ?? "")
            \(tokenHash.map { "admin_token_sha256: \"\($0)\"" } ?? "")
            upstream: { url: sandbox }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex("health-command-site-key"))"
                upstream_token: { env: JUSTGATE_HEALTH_TEST_TOKEN }
            """)
    }

    var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["JUSTGATE_HEALTH_TEST_TOKEN": "health-test-upstream-token"]) { $1 }
    }

    @Test func zeroWhileTheGatewayIsReadyOneOnceItIsGone() throws {
        let path = try config(adminPort: try FreePort.pick())
        var serve = try cli.startServe(config: path, environment: environment)
        #expect(serve.port != nil, "\(serve.log)")

        let ready = try cli.run(["health", "--config", path])
        #expect(ready.status == 0, "\(ready.stdout)\(ready.stderr)")
        #expect(ready.stdout.contains("/readyz on 127.0.0.1:") && ready.stdout.contains("ready"), "\(ready.stdout)")
        let alive = try cli.run(["health", "--config", path, "--live"])
        #expect(alive.status == 0 && alive.stdout.contains("/healthz"), "\(alive.stdout)\(alive.stderr)")

        #expect(serve.stop() == 0)
        let gone = try cli.run(["health", "--config", path, "--timeout-ms", "500"])
        #expect(gone.status == 1)
        #expect(gone.stderr.contains("cannot connect to the admin listener at 127.0.0.1:")
                && gone.stderr.contains("Connection refused"), "\(gone.stderr)")
    }

    @Test func aTokenIsReadFromItsFileAndCheckedAgainstTheHashBeforeItIsSent() throws {
        let path = try config(adminPort: try FreePort.pick(), tokenHash: SiteKeys.sha256Hex(Self.adminToken))
        var serve = try cli.startServe(config: path, environment: environment)
        defer { _ = serve.stop() }
        let right = try cli.writeTemporary(Self.adminToken + "\n")
        let wrong = try cli.writeTemporary("not-the-admin-token\n")

        let missing = try cli.run(["health", "--config", path])
        #expect(missing.status == 1 && missing.stderr.contains("pass --token-file"), "\(missing.stderr)")
        let mismatch = try cli.run(["health", "--config", path, "--token-file", wrong])
        #expect(mismatch.status == 1 && mismatch.stderr.contains("does not match admin_token_sha256"), "\(mismatch.stderr)")
        #expect(!mismatch.stderr.contains("not-the-admin-token"), "a token is never printed")
        let ok = try cli.run(["health", "--config", path, "--token-file", right])
        #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
    }

    @Test func aConfigWithoutAnAdminListenerSaysWhatToAdd() throws {
        let outcome = try cli.run(["health", "--config", try config(adminPort: nil)])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("has no admin_listen") && outcome.stderr.contains("admin_listen: 127.0.0.1:9090"),
                "\(outcome.stderr)")
    }
}
