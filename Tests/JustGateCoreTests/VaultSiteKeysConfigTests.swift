import Testing
@testable import JustGateCore

/// `keys: { vault: PATH }` and the rest of `secrets.vault` around the config file: the key list's shape, the
/// config that names it, relative credential paths, their file modes and the effective-config line.
@Suite struct VaultSiteKeysConfigTests {
    static let reference = VaultSecretReference(path: "secret/data/justgate/keys/a", field: "keys")
    static let hashA = SiteKeys.sha256Hex("key-a")

    @Test func aKeyListParsesWithExpiriesAsStringOrList() throws {
        let text = #"[{"sha256":"\#(Self.hashA)","expires":"2027-01-31"},{"sha256":"\#(SiteKeys.sha256Hex("key-b"))"}]"#
        let keys = try VaultSiteKeys.parse(text, from: Self.reference).get()
        #expect(keys.count == 2 && keys[0].expiry == SiteKeyExpiry.parse("2027-01-31") && keys[1].expiry == nil)
        #expect(keys[0].sha256 == SiteKeys.sha256("key-a"))
        // Written through the API as a JSON list, the field comes back as that list's text.
        let body = #"{"data":{"data":{"keys":\#(text)},"metadata":{"version":4}}}"#
        let read = try VaultAnswer.secret(status: 200, body: body, reference: Self.reference).get()
        #expect(try VaultSiteKeys.parse(read.value.reveal(), from: Self.reference).get() == keys)
        #expect(read.version == 4)
    }

    @Test(arguments: [
        ("not json", "is not a JSON list"), ("[]", "lists no key"), (#"[{"sha256":"abc"}]"#, "64 hex digits"),
        (#"[{"sha256":"\#(hashA)","expires":"soon"}]"#, "YYYY-MM-DD"), (#"[{"sha256":"\#(hashA)","key":"x"}]"#, "unknown field 'key'"),
        (#"[{"sha256":"\#(hashA)"},{"sha256":"\#(hashA)"}]"#, "repeats a key"), (#"["x"]"#, "not an object"),
    ])
    func aListThatCannotBeUsedSaysWhy(text: String, expected: String) {
        guard case .failure(let error) = VaultSiteKeys.parse(text, from: Self.reference) else {
            Issue.record("accepted \(text)"); return
        }
        #expect(error.message.contains(expected), "\(error.message)")
        #expect(error.message.contains("secret/data/justgate/keys/a"))
    }

    @Test func theDifferenceNamesFingerprintsAddedRemovedAndReExpired() throws {
        let a = SiteKey(sha256: SiteKeys.sha256("key-a"))
        let b = SiteKey(sha256: SiteKeys.sha256("key-b"))
        let aExpiring = SiteKey(sha256: a.sha256, expiry: SiteKeyExpiry.parse("2027-01-31"))
        #expect(VaultSiteKeys.difference(old: [a], new: [aExpiring, b]) == "added \(b.fingerprint); new expiry for \(a.fingerprint)")
        #expect(VaultSiteKeys.difference(old: [a, b], new: [b]) == "removed \(a.fingerprint)")
    }

    static let yaml = """
        listen: 127.0.0.1:8080
        upstream:
          url: https://api.justservices.cc
        secrets:
          vault:
            address: https://vault.internal:8200
            ca_file: vault-ca.pem
            approle:
              role_id: { file: creds/role-id }
              secret_id: { file: "${CREDENTIALS_DIRECTORY}/secret-id" }
        sites:
          - id: a
            keys: { vault: secret/data/justgate/keys/a }
            upstream_token: { env: TOKEN_A }
          - id: b
            keys: { vault: secret/data/justgate/keys/b, field: list }
            upstream_token: { env: TOKEN_B }
        """

    @Test func keysFromVaultLoadAndTheirSecretIsReadWithTheTokens() throws {
        let config = try ConfigLoader.load(yaml: Self.yaml, knownOperations: [], baseDirectory: "/srv/gate").get().config
        #expect(config.sites[0].keysFromVault == Self.reference)
        #expect(config.sites[1].keysFromVault == VaultSecretReference(path: "secret/data/justgate/keys/b", field: "list"))
        #expect(config.sites.vaultReferences.count == 2)
        #expect(config.vault?.caFile == "/srv/gate/vault-ca.pem")
        #expect(config.vault?.auth == .appRole(roleID: .file("/srv/gate/creds/role-id"),
                                               secretID: .file("${CREDENTIALS_DIRECTORY}/secret-id")))
        let effective = JSONWriter.compact(EffectiveConfig.json(config))
        #expect(effective.contains(#""secrets":{"vault":{"address":"https://vault.internal:8200","ca_file":"/srv/gate/vault-ca.pem""#), "\(effective)")
        #expect(effective.contains(#""role_id":"<redacted: file /srv/gate/creds/role-id>""#))
        #expect(effective.contains(#""keys":"vault secret/data/justgate/keys/a field keys""#))
    }

    @Test func aTokenFileGivenRelativeIsJoinedToo() throws {
        let yaml = Self.yaml.replacingOccurrences(of: """
            approle:
                  role_id: { file: creds/role-id }
                  secret_id: { file: "${CREDENTIALS_DIRECTORY}/secret-id" }
            """, with: "token: { file: ./vault-token }")
        let config = try ConfigLoader.load(yaml: yaml, knownOperations: [], baseDirectory: "/srv/gate").get().config
        #expect(config.vault?.auth == .token(.file("/srv/gate/vault-token")))
        #expect(config.relativePaths.contains { $0.key == "secrets.vault.token.file" })
    }

    @Test func keysFromVaultWithoutTheSectionIsAnError() {
        let without = """
            listen: 127.0.0.1:8080
            upstream: { url: https://api.justservices.cc }
            sites:
              - id: a
                keys: { vault: secret/data/justgate/keys/a }
                upstream_token: { env: TOKEN_A }
            """
        guard case .failure(let errors) = ConfigLoader.load(yaml: without, knownOperations: []) else {
            Issue.record("loaded"); return
        }
        let text = errors.problems.map(\.description).joined(separator: "\n")
        #expect(text.contains("sites[0].keys: site 'a' reads its keys from Vault, but there is no secrets.vault section"), "\(text)")
    }

    @Test func vaultCredentialFilesOthersMayReadAreWarnedAbout() throws {
        struct Modes: SecretEnvironment {
            func environmentValue(_ name: String) -> String? { name == "CREDENTIALS_DIRECTORY" ? "/run/creds" : nil }
            func fileContents(_ path: String) throws -> String { "x" }
            func filePermissions(_ path: String) -> Int? { path == "/srv/gate/creds/role-id" ? 0o644 : 0o600 }
        }
        let config = try ConfigLoader.load(yaml: Self.yaml, knownOperations: [], baseDirectory: "/srv/gate").get().config
        let warnings = SecretFilePermissions.warnings(for: config, environment: Modes())
        #expect(warnings.count == 1)
        #expect(warnings.first?.path == "secrets.vault.approle.role_id")
        #expect(warnings.first?.message.contains("Vault AppRole role_id file /srv/gate/creds/role-id") == true)
    }
}
