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

    /// The unit with ExecStart pointing at the binary this build made: `verify` checks that the command
    /// exists, and /usr/local/bin/justgate does not on a development machine.
    func unitForThisMachine() throws -> URL {
        let unit = try SystemTools.text(Self.unitPath)
        let local = unit.replacingOccurrences(of: "ExecStart=\(Self.installedBinary) ",
                                              with: "ExecStart=\(CommandLineTests.binary.path) ")
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
            .replacingOccurrences(of: "ExecReload=/bin/kill", with: "ExecReload=/nonexistent/kill")
        try broken.write(to: unit, atomically: true, encoding: .utf8)
        let outcome = try SystemTools.run(analyze, ["verify", unit.path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("ProtectSystm"))
        #expect(outcome.stderr.contains("/nonexistent/kill"))
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
        #expect(values("ExecReload") == ["/bin/kill -HUP $MAINPID"])
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

    /// Every credential the unit loads is a token file of the production example config, read through
    /// `${CREDENTIALS_DIRECTORY}`, and the binary resolves them from a directory like systemd's.
    @Test func theProductionConfigReadsExactlyTheUnitsCredentials() throws {
        let credentials = try settings().filter { $0.key == "LoadCredential" }.map { String($0.value.prefix { $0 != ":" }) }
        let configPath = "config/production.example.yaml"
        let loaded = try ConfigLoader.load(yaml: SystemTools.text(configPath), knownOperations: Catalogue().ids).get()
        var files = loaded.config.sites.compactMap { site -> String? in
            if case .file(let path) = site.upstreamToken { return path }
            return nil
        }
        if case .file(let path)? = loaded.config.audit.hmacKey { files.append(path) }
        if case .file(let path)? = loaded.config.rateLimit.keySecret { files.append(path) }
        #expect(files.sorted() == credentials.map { "${CREDENTIALS_DIRECTORY}/\($0)" }.sorted())
        #expect(loaded.config.audit.path.hasPrefix("/var/log/justgate/"), "the audit files belong in LogsDirectory")

        let directory = try SystemTools.temporaryDirectory()
        for name in credentials {
            try "token-of-\(name)-0123456789abcdef\n".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        let check = try ChildProcess.run(
            CommandLineTests.binary.path, ["check-config", "--config", configPath],
            environment: ProcessInfo.processInfo.environment.merging(["CREDENTIALS_DIRECTORY": directory.path]) { $1 },
            directory: SystemTools.repositoryRoot.path)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(!check.stdout.contains("token-of-"))
    }
}
