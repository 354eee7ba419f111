import Foundation
import JustGateCore
import JustGateAuditReview
import Testing

/// `justgate check-config` as an operator meets it: every problem of every section in one run, each as
/// `FILE:LINE:`, placeholder hashes refused, a wildcard listener warned about as serve does, and the lists of
/// values in `--help` the same as in the README.
@Suite struct CheckConfigCommandTests {
    let cli = CommandLineTests()

    @Test func everySectionsProblemsAppearInOneRunEachAtItsLine() throws {
        let directory = try SystemTools.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("justgate.yaml").path
        try """
            listen: 127.0.0.1:8080
            upstream:
              url: https://example.com
              ca_file: \(directory.path)/missing-ca.pem
            sites:
              - id: a
                key_sha256: "\(SiteKeys.sha256Hex("key-a"))"
                upstream_token: { env: JUSTGATE_CHECK_UNSET_TOKEN }
            audit:
              hmac_key: { env: JUSTGATE_CHECK_UNSET_AUDIT_KEY }
            rate_limit:
              key_secret: { file: \(directory.path)/missing-secret }
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = try cli.run(["check-config", "--config", path])
        #expect(outcome.status == 1)
        // Before, only the token error was printed; the audit key's came after it was fixed, and so on.
        #expect(outcome.stderr.contains("\(path):8: sites[0].upstream_token: "), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(path):10: audit.hmac_key: "), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(path):12: rate_limit.key_secret: "), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(path):4: upstream.ca_file: "), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("4 problems above"))
    }

    @Test func loaderProblemsPrintAsFileColonLine() throws {
        let path = try cli.writeTemporary("""
            listen: 127.0.0.1:8080
            upstream: { url: sandbox, colour: blue }
            sites:
              - id: a
                key_sha256: "abc"
                upstream_token: { env: X }
            """)
        let outcome = try cli.run(["check-config", "--config", path])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("\(path):5: sites[0].key_sha256: "), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("line 5"))
    }

    @Test func placeholderHashesAreErrorsThatSayToRunKeygen() throws {
        let path = try cli.writeTemporary("""
            listen: 127.0.0.1:8080
            admin_listen: 127.0.0.1:9090
            admin_token_sha256: "0000000000000000000000000000000000000000000000000000000000000009"
            upstream: { url: sandbox }
            sites:
              - id: a
                key_sha256: "0000000000000000000000000000000000000000000000000000000000000000"
                upstream_token: { value: t }
              - id: b
                keys:
                  - { sha256: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }
                upstream_token: { value: t }
            """)
        let outcome = try cli.run(["check-config", "--config", path, "--skip-secrets"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("\(path):3: admin_token_sha256: is a placeholder"), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(path):7: sites[0].key_sha256: "), "\(outcome.stderr)")
        #expect(outcome.stderr.contains("\(path):11: sites[1].keys[0].sha256: "), "\(outcome.stderr)")
        #expect(outcome.stderr.components(separatedBy: "run `justgate keygen`").count == 4)
    }

    @Test func aWildcardListenerIsWarnedAboutAsServeDoes() throws {
        for host in ["0.0.0.0", "[::]"] {
            let path = try cli.writeTemporary("""
                listen: "\(host):8080"
                upstream: { url: sandbox }
                sites:
                  - id: a
                    key_sha256: "\(SiteKeys.sha256Hex("key-a"))"
                    upstream_token: { env: JUSTGATE_CHECK_WILDCARD_TOKEN }
                """)
            let outcome = try cli.run(["check-config", "--config", path], environment: ["JUSTGATE_CHECK_WILDCARD_TOKEN": "t"])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let warning = try #require(ListenAddress(host: host == "[::]" ? "::" : host, port: 8080).exposureWarning)
            #expect(outcome.stdout.contains("\(path):1: warning: listen: \(warning)"), "\(outcome.stdout)")
            #expect(warning.contains("every interface"))
        }
    }

    /// Relative paths written in the config resolve against its directory; the built-in default audit.path
    /// against the working directory serve starts in. The check says where each one lands and which rule.
    @Test func relativePathsSayWhereTheyResolve() throws {
        let outcome = try cli.run(["check-config", "--config", "config/justgate.yaml"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let root = SystemTools.repositoryRoot.standardizedFileURL.path
        #expect(outcome.stdout.contains("audit.path ../var/audit/audit.jsonl resolves to \(root)/config/../var/audit/audit.jsonl "
                                        + "(relative to the config file's directory)"), "\(outcome.stdout)")
        #expect(outcome.stdout.contains("sites[0].upstream_token.file demo-tokens/horoscope-daily.token resolves to "
                                        + "\(root)/config/demo-tokens/horoscope-daily.token (relative to the config file's directory)"))
        let defaulted = try cli.run(["check-config", "--config", try cli.writeTemporary("""
            listen: 127.0.0.1:8080
            upstream: { url: sandbox }
            sites:
              - id: a
                key_sha256: "\(SiteKeys.sha256Hex("key-a"))"
                upstream_token: { env: JUSTGATE_CHECK_DEFAULT_AUDIT_TOKEN }
            """)], environment: ["JUSTGATE_CHECK_DEFAULT_AUDIT_TOKEN": "t"])
        #expect(defaulted.status == 0, "\(defaulted.stderr)")
        #expect(defaulted.stdout.contains("audit.path var/audit/audit.jsonl resolves to \(root)/var/audit/audit.jsonl "
                                          + "(the built-in default, relative to the working directory serve starts in)"),
                "\(defaulted.stdout)")
    }

    /// Each list of values `--help` gives is the README's: outcomes (`AuditFilter.outcomes`), events, limiter
    /// backends and what they do on errors.
    @Test func helpAndReadmeListTheSameValues() throws {
        let rawReadme = try SystemTools.text("README.md")
        let readme = rawReadme.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let queryHelp = try cli.run(["audit", "query", "--help"]).stdout
        let flatHelp = queryHelp.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let outcomes = AuditFilter.outcomes.joined(separator: ", ")
        #expect(flatHelp.contains("Only this outcome: \(outcomes)."), "\(queryHelp)")
        #expect(readme.contains("`--outcome` takes one of: \(AuditFilter.outcomes.map { "`\($0)`" }.joined(separator: ", "))"))
        let events = AuditRecord.Event.allCases.map(\.rawValue) + ["all"]
        #expect(flatHelp.contains("Only records of this event: \(events.joined(separator: ", "))"), "\(queryHelp)")
        #expect(readme.contains("`--event` takes one of: \(events.map { "`\($0)`" }.joined(separator: ", "))"))
        let backendLine = try #require(rawReadme.split(separator: "\n").first { $0.hasPrefix("  backend: ") })
        #expect(RateLimitBackend.allCases.allSatisfy { backendLine.contains($0.rawValue) })
        let errorLine = try #require(rawReadme.split(separator: "\n").first { $0.hasPrefix("  on_backend_error: ") })
        #expect(RateLimitBackendErrorPolicy.allCases.allSatisfy { errorLine.contains($0.rawValue) })
    }
}
