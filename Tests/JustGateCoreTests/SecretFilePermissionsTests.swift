import Testing
@testable import JustGateCore

/// Token and audit key files other users may read are warned about, naming the file and its mode only.
@Suite struct SecretFilePermissionsTests {
    struct ModedEnvironment: SecretEnvironment {
        var modes: [String: Int]
        func environmentValue(_ name: String) -> String? { nil }
        func fileContents(_ path: String) throws -> String { "secret-token-value" }
        func filePermissions(_ path: String) -> Int? { modes[path] }
    }

    static let yaml = """
        listen: 127.0.0.1:8080
        upstream:
          url: https://api.justservices.cc
        sites:
          - id: open-site
            key_sha256: "\(ConfigFixtures.hashA)"
            upstream_token: { file: /secrets/open.token }
          - id: closed-site
            key_sha256: "\(ConfigFixtures.hashB)"
            upstream_token: { file: /secrets/closed.token }
        audit:
          hmac_key: { file: /secrets/audit.key }

        """

    @Test func filesOthersMayReadAreWarnedAboutByPathAndMode() throws {
        let config = try #require(ConfigFixtures.config(Self.yaml)).config
        let environment = ModedEnvironment(modes: [
            "/secrets/open.token": 0o644, "/secrets/closed.token": 0o640, "/secrets/audit.key": 0o660,
        ])
        let warnings = SecretFilePermissions.warnings(for: config, environment: environment)
        #expect(warnings.map(\.path) == ["sites[0].upstream_token", "audit.hmac_key"])
        #expect(warnings.allSatisfy { $0.isWarning })
        let text = warnings.map(\.description).joined(separator: "\n")
        #expect(text.contains("site 'open-site': token file /secrets/open.token is readable by its group and all other users (mode 0644)"), "\(text)")
        #expect(text.contains("audit key file /secrets/audit.key is readable and writable by its group (mode 0660)"), "\(text)")
        #expect(text.contains("chmod 600"))
        #expect(!text.contains("secret-token-value"))
    }

    @Test func privateFilesAndUnknownModesRaiseNothing() throws {
        let config = try #require(ConfigFixtures.config(Self.yaml)).config
        let environment = ModedEnvironment(modes: ["/secrets/open.token": 0o400, "/secrets/audit.key": 0o600])
        #expect(SecretFilePermissions.warnings(for: config, environment: environment).isEmpty)
        #expect(SecretFilePermissions.warnings(for: config, environment: FakeSecretEnvironment()).isEmpty)
    }
}
