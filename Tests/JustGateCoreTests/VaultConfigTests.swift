import Testing
@testable import JustGateCore

/// `secrets.vault` and `{ vault: PATH, field: NAME }` tokens: what loads, and every mistake with its line.
@Suite struct VaultConfigTests {
    static func yaml(site token: String, secrets: String) -> String {
        """
        listen: 127.0.0.1:8080
        upstream:
          url: https://api.justservices.cc
        sites:
          - id: horoscope-daily
            key_sha256: "\(ConfigFixtures.hashA)"
            upstream_token: \(token)
        \(secrets)
        """
    }

    static let approle = """
        secrets:
          vault:
            address: https://vault.internal:8200/
            ca_file: /etc/justgate/vault-ca.pem
            namespace: ops
            approle:
              role_id: { file: "${CREDENTIALS_DIRECTORY}/vault-role-id" }
              secret_id: { env: VAULT_SECRET_ID }
            refresh_s: 30
        """

    @Test func aKV2TokenWithAppRoleLoads() throws {
        let loaded = try #require(ConfigFixtures.config(Self.yaml(
            site: #"{ vault: "secret/data/justgate/horoscope-daily", field: token }"#, secrets: Self.approle)))
        let vault = try #require(loaded.config.vault)
        #expect(vault.address == "https://vault.internal:8200")
        #expect(vault.caFile == "/etc/justgate/vault-ca.pem" && vault.namespace == "ops" && vault.refreshSeconds == 30)
        #expect(vault.auth == .appRole(roleID: .file("${CREDENTIALS_DIRECTORY}/vault-role-id"), secretID: .env("VAULT_SECRET_ID")))
        let reference = VaultSecretReference(path: "secret/data/justgate/horoscope-daily", field: "token")
        #expect(loaded.config.sites[0].upstreamToken == .vault(reference))
        #expect(loaded.config.sites.vaultReferences == [reference])
        #expect(loaded.warnings.isEmpty)
    }

    @Test func aKV1PathAndATokenLoginLoad() throws {
        let secrets = "secrets:\n  vault: { address: \"http://127.0.0.1:8200\", token: { file: /run/vault-token } }"
        let loaded = try #require(ConfigFixtures.config(Self.yaml(site: "{ vault: kv/justgate/horoscope, field: t }", secrets: secrets)))
        #expect(loaded.config.vault?.auth == .token(.file("/run/vault-token")))
        #expect(loaded.config.vault?.refreshSeconds == 60)
    }

    @Test func aVaultTokenWithoutSecretsVaultIsAnErrorOnItsLine() {
        let problems = ConfigFixtures.problems(Self.yaml(site: "{ vault: secret/data/justgate/x, field: token }", secrets: ""))
        #expect(problems.count == 1)
        #expect(problems.first?.line == 7)
        #expect(problems.first?.message.contains("no secrets.vault section") == true)
    }

    @Test func mistakesAreNamedWithTheirLines() {
        let secrets = """
            secrets:
              vault:
                address: vault.internal:8200
                approle: { role_id: { value: x } }
                refresh_s: 0
            """
        let problems = ConfigFixtures.problems(Self.yaml(site: "{ vault: /v1/secret/data/x }", secrets: secrets))
        let text = problems.map(\.description).joined(separator: "\n")
        #expect(text.contains("without a leading / or v1/"))
        #expect(text.contains("missing required key 'field'"))
        #expect(text.contains("must start with https://"))
        #expect(text.contains("secret_id"))
        #expect(text.contains("must be greater than 0"))
        #expect(problems.allSatisfy { $0.line != nil })
    }

    @Test func plainHTTPOffLoopbackIsWarnedAbout() throws {
        let secrets = "secrets:\n  vault: { address: \"http://vault.internal:8200\", token: { env: VT } }"
        let loaded = try #require(ConfigFixtures.config(Self.yaml(site: "{ vault: secret/data/x, field: token }", secrets: secrets)))
        #expect(loaded.warnings.contains { $0.message.contains("plain http") })
    }

    @Test func theResolverUsesVaultReadsAndNamesWhatIsMissing() {
        let reference = VaultSecretReference(path: "secret/data/justgate/x", field: "token")
        let site = SiteConfig(id: "x", keySHA256: SiteKeys.sha256("k"), upstreamToken: .vault(reference))
        let read: VaultReads = [reference: .success(VaultSecretValue(value: Secret("tok-123"), version: 3))]
        let resolved = try? SecretResolver.resolve([site], environment: FakeSecretEnvironment(), vault: read).get()
        #expect(resolved?.first?.upstreamToken.reveal() == "tok-123")
        guard case .failure(let errors) = SecretResolver.resolve([site], environment: FakeSecretEnvironment()) else {
            Issue.record("resolved without a read")
            return
        }
        #expect(errors.problems.first?.message.contains("secret/data/justgate/x") == true)
    }
}

/// Vault's answers, as `VaultAnswer` reads them, and when the client token is renewed or replaced.
@Suite struct VaultAnswerTests {
    let reference = VaultSecretReference(path: "secret/data/justgate/x", field: "token")

    @Test func kv2AndKV1AnswersAreToldApart() throws {
        let v2 = #"{"data":{"data":{"token":"abc"},"metadata":{"version":7,"deletion_time":""}}}"#
        let read = try VaultAnswer.secret(status: 200, body: v2, reference: reference).get()
        #expect(read.value.reveal() == "abc" && read.version == 7)
        let v1 = #"{"data":{"token":"def"},"lease_duration":2764800}"#
        let old = try VaultAnswer.secret(status: 200, body: v1, reference: reference).get()
        #expect(old.value.reveal() == "def" && old.version == nil)
    }

    @Test func missingFieldsDeletedVersionsAnd403AreNamedWithoutValues() {
        let other = #"{"data":{"data":{"password":"p4ss-VALUE"},"metadata":{"version":1}}}"#
        guard case .failure(let noField) = VaultAnswer.secret(status: 200, body: other, reference: reference) else {
            Issue.record("no error")
            return
        }
        #expect(noField.message.contains("no field 'token'") && noField.message.contains("password"))
        #expect(!noField.message.contains("p4ss-VALUE") && noField.isMissing)
        let deleted = #"{"data":{"data":null,"metadata":{"version":2,"deletion_time":"2026-01-01T00:00:00Z"}}}"#
        if case .failure(let error) = VaultAnswer.secret(status: 404, body: deleted, reference: reference) {
            #expect(error.message.contains("deleted") && error.isMissing)
        } else { Issue.record("deleted read") }
        if case .failure(let error) = VaultAnswer.secret(status: 403, body: #"{"errors":["permission denied"]}"#, reference: reference) {
            #expect(error.message.contains("403") && !error.isMissing)
        } else { Issue.record("403 read") }
    }

    @Test func aLoginAnswerGivesALease() throws {
        let body = #"{"auth":{"client_token":"s.abc","lease_duration":2,"renewable":true}}"#
        let lease = try #require(VaultAnswer.lease(body))
        #expect(lease.token.reveal() == "s.abc" && lease.seconds == 2 && lease.renewable)
        #expect(VaultAnswer.lease(#"{"errors":["invalid secret id"]}"#) == nil)
    }

    @Test func theTokenIsRenewedAtTwoThirdsAndReplacedNearItsMaxTTL() {
        var plan = VaultTokenPlan(loginAt: 100, leaseSeconds: 3, renewable: true)
        #expect(plan.step(at: 101, canLogIn: true) == .keep)
        #expect(plan.step(at: 102, canLogIn: true) == .renew)
        plan.renewed(at: 102, leaseSeconds: 3, renewable: true)
        #expect(plan.step(at: 103, canLogIn: true) == .keep)
        #expect(plan.step(at: 104.1, canLogIn: true) == .renew)
        plan.renewed(at: 104.1, leaseSeconds: 1, renewable: true)  // capped by token_max_ttl
        #expect(plan.step(at: 104.9, canLogIn: true) == .login)
        #expect(plan.step(at: 104.9, canLogIn: false) == .renew)
        #expect(VaultTokenPlan(loginAt: 0, leaseSeconds: 0, renewable: false).step(at: 1e9, canLogIn: true) == .keep)
        var capped = VaultTokenPlan(loginAt: 0, leaseSeconds: 2, renewable: true)
        capped.renewed(at: 5.5, leaseSeconds: 0, renewable: true)
        #expect(capped.step(at: 5.5, canLogIn: true) == .login)
        #expect(VaultTokenPlan(loginAt: 0, leaseSeconds: 3, renewable: false).step(at: 2, canLogIn: true) == .login)
        // A given token past its lease by this clock (Vault rounds TTLs down) is still offered for renewal.
        #expect(VaultTokenPlan(loginAt: 0, leaseSeconds: 1, renewable: true).step(at: 1.2, canLogIn: false) == .renew)
    }
}
