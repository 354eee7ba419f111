import Testing
@testable import JustGateCore
import JustGateAuditReview

/// The `audit:` section and the audit key.
@Suite struct AuditConfigTests {
    @Test func defaultsWhenTheSectionIsAbsent() throws {
        let audit = try #require(ConfigFixtures.config(ConfigFixtures.minimal)).config.audit
        #expect(audit == AuditConfig())
        #expect(audit.enabled && audit.required && audit.fsync == .interval && audit.hmacKey == nil)
    }

    @Test func everyKeyIsRead() throws {
        let yaml = ConfigFixtures.minimal + """
            audit:
              path: /var/lib/justgate/audit.jsonl
              hmac_key: { env: JUSTGATE_AUDIT_KEY }
              rotate_bytes: 1048576
              keep_files: 3
              fsync: always
              required: false
              enabled: true
            """
        let audit = try #require(ConfigFixtures.config(yaml)).config.audit
        #expect(audit == AuditConfig(path: "/var/lib/justgate/audit.jsonl", enabled: true, hmacKey: .env("JUSTGATE_AUDIT_KEY"),
                                     rotateBytes: 1_048_576, keepFiles: 3, fsync: .always, required: false))
    }

    @Test func wrongValuesAreReportedWithTheirKeyPath() {
        let yaml = ConfigFixtures.minimal + """
            audit:
              hmac_key: { value: inline-key-is-not-allowed }
              rotate_bytes: 10
              fsync: sometimes
              required: maybe
              colour: blue
            """
        let problems = ConfigFixtures.problems(yaml).map(\.description)
        #expect(problems.contains { $0.contains("audit.hmac_key") })
        #expect(problems.contains { $0.contains("audit.rotate_bytes") && $0.contains("at least 4096") })
        #expect(problems.contains { $0.contains("audit.fsync") && $0.contains("always, interval, never") })
        #expect(problems.contains { $0.contains("audit.required") })
        #expect(problems.contains { $0.contains("colour") })
    }

    @Test func theKeyIsReadFromEnvOrFileAndNeverQuoted() throws {
        let environment = FakeSecretEnvironment(variables: ["K": "  0123456789abcdef0123  \n"], files: ["/k": "short\n"])
        let key = try AuditKeyResolver.resolve(.env("K"), environment: environment).get()
        #expect(key == Array("0123456789abcdef0123".utf8))
        #expect(try AuditKeyResolver.resolve(nil, environment: environment).get() == nil)
        guard case .failure(let tooShort) = AuditKeyResolver.resolve(.file("/k"), environment: environment) else {
            Issue.record("a 5-character key was accepted")
            return
        }
        #expect(tooShort.problems[0].message.contains("shorter than 16") && !tooShort.problems[0].message.contains("short\n"))
        guard case .failure(let missing) = AuditKeyResolver.resolve(.env("NOPE"), environment: environment) else {
            Issue.record("a missing variable was accepted")
            return
        }
        #expect(missing.problems[0].message.contains("NOPE is not set"))
    }
}
