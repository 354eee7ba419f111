import Foundation
import JustGateCore
import Testing

/// deploy/systemd/justgate.service, checked by systemd's own tools: `systemd-analyze verify` (the unit
/// loads, every key is known, every command exists) and `systemd-analyze security` (its exposure score,
/// which deploy/README.md states). Both run offline, without systemd as PID 1.
@Suite(.serialized)
struct SystemdUnitTests {
    static let unitPath = "deploy/systemd/justgate.service"
    static let installedBinary = "/usr/local/bin/justgate"

    /// The unit with ExecStart and ExecReload pointing at the binary this build made: `verify` checks that
    /// the commands exist, and /usr/local/bin/justgate does not on a development machine.
    func unitForThisMachine() throws -> URL {
        let unit = try SystemTools.text(Self.unitPath)
        let local = unit.replacingOccurrences(of: "=\(Self.installedBinary) ", with: "=\(CommandLineTests.binary.path) ")
        #expect(local != unit, "the unit's ExecStart no longer starts with \(Self.installedBinary)")
        let url = try SystemTools.temporaryDirectory().appendingPathComponent("justgate.service")
        try local.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// `Key=value` lines of the unit, in order (a key may repeat).
    func settings() throws -> [(key: String, value: String)] {
        try SystemTools.text(Self.unitPath).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), !line.hasPrefix("["), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    @Test func systemdAnalyzeVerifiesTheUnitWithoutAWord() throws {
        let analyze = try SystemTools.require("systemd-analyze", package: "systemd")
        let unit = try unitForThisMachine()
        let outcome = try SystemTools.run(analyze, ["verify", unit.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        // Unknown keys and bad values are only warnings to verify; here they fail the test.
        #expect(outcome.stderr.isEmpty, "\(outcome.stderr)")
        #expect(outcome.stdout.isEmpty, "\(outcome.stdout)")
    }

    @Test func aBrokenUnitFailsVerifySoTheCheckAboveCanFail() throws {
        let analyze = try SystemTools.require("systemd-analyze", package: "systemd")
        let unit = try unitForThisMachine()
        let broken = try String(contentsOf: unit, encoding: .utf8)
            .replacingOccurrences(of: "ProtectSystem=strict", with: "ProtectSystem=strict\nProtectSystm=full")
            // verify checks only the first command of each Exec*= list: the reload's check-config.
            .replacingOccurrences(of: "ExecReload=\(CommandLineTests.binary.path) ", with: "ExecReload=/nonexistent/justgate ")
        try broken.write(to: unit, atomically: true, encoding: .utf8)
        let outcome = try SystemTools.run(analyze, ["verify", unit.path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("ProtectSystm"))
        #expect(outcome.stderr.contains("/nonexistent/justgate"))
    }

    @Test func theExposureScoreIsLowAndIsTheOneTheReadmeStates() throws {
        let analyze = try SystemTools.require("systemd-analyze", package: "systemd")
        let unit = try unitForThisMachine()
        let outcome = try SystemTools.run(analyze, ["security", "--offline=true", "--no-pager", unit.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let marker = "Overall exposure level for justgate.service: "
        let line = try #require(outcome.stdout.split(separator: "\n").first { $0.contains(marker) }, "\(outcome.stdout)")
        let verdict = line.components(separatedBy: marker)[1].split(separator: " ")
        let score = try #require(Double(String(verdict[0])))
        let label = String(verdict[1])
        #expect(score <= 2.0, "exposure \(score) \(label): a sandboxing line was lost\n\(outcome.stdout)")
        let readme = try SystemTools.text("deploy/README.md")
        #expect(readme.contains("exposure level **\(verdict[0]) \(label)**"),
                "deploy/README.md must state the measured score, \(verdict[0]) \(label)")
    }

    @Test func theUnitHasTheSettingsTheDeployGuideRelieson() throws {
        let all = try settings()
        func values(_ key: String) -> [String] { all.filter { $0.key == key }.map(\.value) }
        #expect(values("User") == ["justgate"])
        #expect(values("ExecStart").first?.hasPrefix("\(Self.installedBinary) serve --config /etc/justgate/justgate.yaml") == true)
        #expect(values("ExecReload") == ["\(Self.installedBinary) check-config --config /etc/justgate/justgate.yaml",
                                         "/bin/kill -HUP $MAINPID"])
        // Request lines go to the journal: its default 10,000 per 30 s would drop them under load.
        #expect(values("LogRateLimitIntervalSec") == ["30s"])
        #expect(values("LogRateLimitBurst").first.flatMap { Int($0) }.map { $0 >= 30 * 24_000 } == true,
                "the journal must keep a request line per request at the benchmarked 24k req/s")
        let readme = try SystemTools.text("deploy/README.md")
        #expect(readme.contains("LogRateLimitBurst=\(values("LogRateLimitBurst").first ?? "?")"),
                "deploy/README.md must state the unit's log rate limit")
        #expect(values("Restart") == ["on-failure"])
        #expect(values("NoNewPrivileges") == ["yes"])
        #expect(values("ProtectSystem") == ["strict"])
        #expect(values("PrivateTmp") == ["yes"])
        #expect(values("CapabilityBoundingSet") == [""])
        #expect(values("SystemCallFilter").first == "@system-service")
        #expect(values("StateDirectory") == ["justgate"])
        #expect(values("LogsDirectory") == ["justgate"])
        #expect(!values("LoadCredential").isEmpty)
    }

    /// The unit loads exactly the audit key and the rate-limit key secret as credentials (read through `${CREDENTIALS_DIRECTORY}`); every
    /// upstream token is a file under /etc/justgate/tokens/, read in place on every reload, since systemd
    /// copies credentials only at start. The binary resolves both from directories like the server's.
    @Test func theProductionConfigReadsTheUnitsCredentialAndTokensInPlace() throws {
        let credentials = try settings().filter { $0.key == "LoadCredential" }.map { String($0.value.prefix { $0 != ":" }) }
        #expect(credentials == ["audit.key", "ratelimit.key"], "a token loaded as a credential would never rotate on reload")
        var configText = ConfigPlaceholders.filled(try SystemTools.text("config/production.example.yaml"))
        let loaded = try ConfigLoader.load(yaml: configText, knownOperations: Catalogue().ids).get()
        let tokenFiles = loaded.config.sites.compactMap { site -> String? in
            if case .file(let path) = site.upstreamToken { return path }
            return nil
        }
        #expect(tokenFiles.count == loaded.config.sites.count)
        #expect(tokenFiles == loaded.config.sites.map { "/etc/justgate/tokens/\($0.id)" })
        #expect(loaded.config.audit.hmacKey == .file("${CREDENTIALS_DIRECTORY}/audit.key"))
        #expect(loaded.config.rateLimit.keySecret == .file("${CREDENTIALS_DIRECTORY}/ratelimit.key"))
        #expect(loaded.config.audit.path.hasPrefix("/var/log/justgate/"), "the audit files belong in LogsDirectory")

        let directory = try SystemTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "audit-key-0123456789abcdef0123456789abcdef\n".write(to: directory.appendingPathComponent("audit.key"),
                                                                  atomically: true, encoding: .utf8)
        try "ratelimit-key-0123456789abcdef0123456789\n".write(to: directory.appendingPathComponent("ratelimit.key"),
                                                                atomically: true, encoding: .utf8)
        for site in loaded.config.sites {
            try "token-of-\(site.id)-0123456789abcdef\n".write(to: directory.appendingPathComponent(site.id),
                                                              atomically: true, encoding: .utf8)
        }
        configText = configText.replacingOccurrences(of: "/etc/justgate/tokens/", with: directory.path + "/")
        let configPath = directory.appendingPathComponent("justgate.yaml")
        try configText.write(to: configPath, atomically: true, encoding: .utf8)
        let check = try ChildProcess.run(
            CommandLineTests.binary.path, ["check-config", "--config", configPath.path],
            environment: ProcessInfo.processInfo.environment.merging(["CREDENTIALS_DIRECTORY": directory.path]) { $1 },
            directory: SystemTools.repositoryRoot.path)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(!check.stdout.contains("token-of-"))
    }
}
