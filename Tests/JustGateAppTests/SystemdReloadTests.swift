import Foundation
import JustGateCore
import Testing

/// `systemctl reload justgate` as the unit defines it, without systemd: the unit's own `ExecReload=` lines
/// are run in order (as systemd does, stopping at the first that fails) against a real `justgate serve`
/// on the production example config, with `$MAINPID` and the installed paths replaced by this machine's.
/// They prove that a broken config fails the reload command (item 5 of issue 22) and that a token
/// rotated on disk is the one the next upstream call carries (item 4).
@Suite(.serialized)
struct SystemdReloadTests {
    static let siteKey = "systemd-reload-site-key-0123456789abcdefghij"
    static let segment = "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b"

    /// A gateway on config/production.example.yaml, its paths moved into a temporary directory, its
    /// upstream a capturing stand-in, its limits in a real redis-server.
    final class Deployment {
        let directory: URL
        let config: URL
        let tokens: URL
        let credentials: URL
        let upstream: CapturingUpstream
        let redis: RedisServer
        var serve: CommandLineTests.RunningServe

        var environment: [String: String] {
            ProcessInfo.processInfo.environment.merging(["CREDENTIALS_DIRECTORY": credentials.path]) { $1 }
        }

        init() throws {
            directory = try SystemTools.temporaryDirectory(prefix: "justgate-systemd-reload")
            tokens = directory.appendingPathComponent("tokens")
            credentials = directory.appendingPathComponent("credentials")
            for folder in [tokens, credentials, directory.appendingPathComponent("log")] {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            }
            upstream = try CapturingUpstream()
            redis = try RedisServer()
            try "audit-hmac-key-0123456789abcdef0123456789ab\n".write(
                to: credentials.appendingPathComponent("audit.key"), atomically: true, encoding: .utf8)
            try "ratelimit-hmac-key-0123456789abcdef0123456\n".write(
                to: credentials.appendingPathComponent("ratelimit.key"), atomically: true, encoding: .utf8)
            for site in ["horoscope-daily", "news-portal"] {
                try "first-token-of-\(site)\n".write(to: tokens.appendingPathComponent(site), atomically: true, encoding: .utf8)
            }
            config = directory.appendingPathComponent("justgate.yaml")
            try SystemdReloadTests.productionConfig(deployment: directory, upstreamPort: upstream.port, redis: redis.url)
                .write(to: config, atomically: true, encoding: .utf8)
            let environment = ProcessInfo.processInfo.environment.merging(["CREDENTIALS_DIRECTORY": credentials.path]) { $1 }
            serve = try CommandLineTests().startServe(config: config.path, environment: environment, directory: directory.path)
        }

        deinit {
            _ = serve.stop()
            upstream.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// The production example with this machine's addresses and a temporary directory in place of /etc and /var.
    static func productionConfig(deployment directory: URL, upstreamPort: Int, redis: String) throws -> String {
        var yaml = try SystemTools.text("config/production.example.yaml")
        let replacements = [
            ("listen: 127.0.0.1:8080", "listen: 127.0.0.1:0"),
            ("admin_listen: 127.0.0.1:9090", "admin_listen: 127.0.0.1:\(try FreePort.pick())"),
            ("url: https://api.justservices.cc", "url: http://127.0.0.1:\(upstreamPort)"),
            ("redis://127.0.0.1:6379/0", redis),
            ("redis_timeout_ms: 5", "redis_timeout_ms: 500"),
            ("/etc/justgate/tokens/", directory.path + "/tokens/"),
            ("/var/log/justgate/", directory.path + "/log/"),
            ("\"0000000000000000000000000000000000000000000000000000000000000000\"", "\"\(SiteKeys.sha256Hex(siteKey))\""),
        ]
        for (old, new) in replacements {
            #expect(yaml.contains(old), "config/production.example.yaml no longer has \(old)")
            yaml = yaml.replacingOccurrences(of: old, with: new)
        }
        return ConfigPlaceholders.filled(yaml)
    }

    /// Runs the unit's ExecReload= lines in order, as systemd does: the first one that fails fails the
    /// reload and the rest do not run. Returns each command's outcome.
    static func systemctlReload(config: URL, mainPID: pid_t, environment: [String: String]) throws -> [ChildProcess.Outcome] {
        let lines = try SystemdUnitTests().settings().filter { $0.key == "ExecReload" }.map(\.value)
        #expect(!lines.isEmpty)
        var outcomes: [ChildProcess.Outcome] = []
        for line in lines {
            let words = line.split(separator: " ").map { word -> String in
                switch word {
                case Substring(SystemdUnitTests.installedBinary): return CommandLineTests.binary.path
                case "/etc/justgate/justgate.yaml": return config.path
                case "$MAINPID": return String(mainPID)
                default: return String(word)
                }
            }
            let outcome = try ChildProcess.run(words[0], Array(words.dropFirst()), environment: environment,
                                               directory: SystemTools.repositoryRoot.path)
            outcomes.append(outcome)
            if outcome.status != 0 { break }
        }
        return outcomes
    }

    func tokenSentUpstream(_ deployment: Deployment) throws -> String? {
        let port = try #require(deployment.serve.port, "the gateway did not start: \(deployment.serve.log)")
        let before = deployment.upstream.requests.count
        let response = try RawHTTPClient(port: port).exchange(
            "GET \(Self.segment) HTTP/1.1\r\nHost: localhost\r\nX-AUTH-TOKEN: \(Self.siteKey)\r\n\r\n")
        #expect(response.status == 200, "\(response.status) \(response.text)")
        let requests = deployment.upstream.requests
        return requests.count > before ? requests.last?.headers["x-auth-token"] : nil
    }

    @Test func aRotatedTokenFileIsSentFromTheReloadOnAndSitesShowsItsFingerprint() throws {
        let deployment = try Deployment()
        #expect(try tokenSentUpstream(deployment) == "first-token-of-horoscope-daily")

        // deploy/README.md "Rotating an upstream token": write the file, `systemctl reload justgate`.
        let rotated = "rotated-token-of-horoscope-daily-S3CRET"
        try "\(rotated)\n".write(to: deployment.tokens.appendingPathComponent("horoscope-daily"), atomically: true, encoding: .utf8)
        let outcomes = try Self.systemctlReload(config: deployment.config, mainPID: deployment.serve.process.pid,
                                                environment: deployment.environment)
        #expect(outcomes.allSatisfy { $0.status == 0 }, "\(outcomes.map { "\($0.status) \($0.stdout)\($0.stderr)" })")
        // SIGHUP is handled asynchronously: the gateway logs when the new config is in force.
        deployment.serve.log += deployment.serve.process.readStderr(until: "config reloaded", timeoutSeconds: 5)
        #expect(deployment.serve.log.contains("config reloaded"))
        #expect(try tokenSentUpstream(deployment) == rotated)

        // `justgate sites` shows the fingerprint of the token now in the file, never the token.
        let sites = try ChildProcess.run(CommandLineTests.binary.path, ["sites", "--config", deployment.config.path],
                                         environment: deployment.environment, directory: SystemTools.repositoryRoot.path)
        let fingerprint = String(SiteKeys.sha256Hex(rotated).prefix(12))
        #expect(sites.stdout.contains("horoscope-daily, resolves, fingerprint \(fingerprint)\n"), "\(sites.stdout)")
        #expect(!sites.stdout.contains(rotated) && !deployment.serve.log.contains(rotated))
    }

    @Test func aBrokenConfigOrAMissingTokenFailsTheReloadAndTheGatewayKeepsServing() throws {
        let deployment = try Deployment()
        let pid = deployment.serve.process.pid
        let good = try String(contentsOf: deployment.config, encoding: .utf8)

        // A typo in a key: check-config fails, so systemd never sends the signal and `systemctl reload` fails.
        try good.replacingOccurrences(of: "  connect_timeout_ms:", with: "  conect_timeout_ms:")
            .write(to: deployment.config, atomically: true, encoding: .utf8)
        var outcomes = try Self.systemctlReload(config: deployment.config, mainPID: pid, environment: deployment.environment)
        #expect(outcomes.count == 1 && outcomes[0].status == 1, "the reload must stop at the check")
        #expect(outcomes.first?.stderr.contains("conect_timeout_ms") == true, "\(outcomes.first?.stderr ?? "")")

        // A token file that is gone: the same.
        try good.write(to: deployment.config, atomically: true, encoding: .utf8)
        let tokenFile = deployment.tokens.appendingPathComponent("news-portal")
        try FileManager.default.removeItem(at: tokenFile)
        outcomes = try Self.systemctlReload(config: deployment.config, mainPID: pid, environment: deployment.environment)
        #expect(outcomes.count == 1 && outcomes[0].status == 1)
        #expect(outcomes.first?.stderr.contains("news-portal") == true, "\(outcomes.first?.stderr ?? "")")

        // Nothing reached the gateway: it logged no reload, and serves with the config it had.
        deployment.serve.log += deployment.serve.process.readStderr(until: "reloaded", timeoutSeconds: 0.5)
        #expect(!deployment.serve.log.contains("reloaded"), "\(deployment.serve.log)")
        #expect(try tokenSentUpstream(deployment) == "first-token-of-horoscope-daily")

        // Mended: the reload succeeds and the gateway says so.
        try "first-token-of-news-portal\n".write(to: tokenFile, atomically: true, encoding: .utf8)
        outcomes = try Self.systemctlReload(config: deployment.config, mainPID: pid, environment: deployment.environment)
        #expect(outcomes.count == 2 && outcomes.allSatisfy { $0.status == 0 }, "\(outcomes.map { "\($0.status) \($0.stderr)" })")
        deployment.serve.log += deployment.serve.process.readStderr(until: "config reloaded", timeoutSeconds: 5)
        #expect(deployment.serve.log.contains("config reloaded"))
    }
}
