import Foundation
import JustGateApp
import JustGateCore
import Testing

/// A site's keys kept in a real OpenBao dev server (`keys: { vault: PATH }`): a key added there authenticates
/// within refresh_s and a key removed stops, with no reload; each change is audited by fingerprint; a list that
/// cannot be used keeps the last good one; check-config names a missing key secret.
@Suite(.serialized) struct VaultSiteKeysTests {
    static let secondKey = "test-key-horoscope-from-vault-BBBB"
    static let keysLine = #"keys: { vault: "secret/data/justgate/keys/horoscope-daily" }"#

    /// `[{"sha256": …}]` for these keys, as `bao kv put PATH keys=@file` stores it (a string).
    static func list(_ keys: [String], expires: String? = nil) -> String {
        "[" + keys.map { key in
            "{\"sha256\":\"\(SiteKeys.sha256Hex(key))\"" + (expires.map { ",\"expires\":\"\($0)\"" } ?? "") + "}"
        }.joined(separator: ",") + "]"
    }

    static func gateway() throws -> VaultTokenTests.VaultGateway {
        try VaultTokenTests.VaultGateway(horoscopeKeys: keysLine) { bao in
            try bao.put("justgate/keys/horoscope-daily", ["keys": list([GatewayFixture.horoscopeKey])])
        }
    }

    @Test func aKeyAddedInVaultAuthenticatesWithinRefreshAndARemovedKeyStops() throws {
        let gateway = try Self.gateway()
        #expect(try gateway.send(key: GatewayFixture.horoscopeKey).status == 200)
        #expect(try gateway.send(key: Self.secondKey).status == 401)

        try gateway.bao.put("justgate/keys/horoscope-daily", ["keys": Self.list([GatewayFixture.horoscopeKey, Self.secondKey])])
        let added = Polling.read(timeoutSeconds: 4, until: { $0 == 200 }) { try? gateway.send(key: Self.secondKey).status }
        #expect(added == 200, "the key added in Vault was not accepted within refresh_s")
        #expect(try gateway.send(key: GatewayFixture.horoscopeKey).status == 200)

        try gateway.bao.put("justgate/keys/horoscope-daily", ["keys": Self.list([Self.secondKey])])
        let removed = Polling.read(timeoutSeconds: 4, until: { $0 == 401 }) { try? gateway.send(key: GatewayFixture.horoscopeKey).status }
        #expect(removed == 401, "the key removed in Vault still authenticates")
        #expect(try gateway.send(key: Self.secondKey).status == 200)

        let first = SiteKey(sha256: SiteKeys.sha256(GatewayFixture.horoscopeKey)).fingerprint
        let second = SiteKey(sha256: SiteKeys.sha256(Self.secondKey)).fingerprint
        let audit = Polling.read(timeoutSeconds: 3, until: { $0.contains("removed \(first)") }) { gateway.audit() }
        #expect(audit.contains("site keys from Vault secret/data/justgate/keys/horoscope-daily (field keys) (version 2): added \(second)"),
                "\(audit)")
        #expect(audit.contains("(version 3): removed \(first)"), "\(audit)")
        #expect(gateway.log().contains("site keys changed in Vault"))
        #expect(!gateway.log().contains(SiteKeys.sha256Hex(Self.secondKey)) && !audit.contains(SiteKeys.sha256Hex(Self.secondKey)))
        gateway.expectNoSecrets()
    }

    @Test func aListThatCannotBeUsedKeepsTheLastGoodKeysAndWarns() throws {
        let gateway = try Self.gateway()
        try gateway.bao.put("justgate/keys/horoscope-daily", ["keys": "[]"])
        let log = Polling.read(timeoutSeconds: 4, until: { $0.contains("cannot be used") }) { gateway.log() }
        #expect(log.contains("site keys read from Vault cannot be used") && log.contains("lists no key"), "\(log)")
        #expect(try gateway.send(key: GatewayFixture.horoscopeKey).status == 200)
        try gateway.api("DELETE", "secret/data/justgate/keys/horoscope-daily")
        _ = Polling.read(timeoutSeconds: 4, until: { $0.contains("its last value stays in use") }) { gateway.log() }
        #expect(try gateway.send(key: GatewayFixture.horoscopeKey).status == 200)
    }

    @Test func checkConfigAndSitesReadTheKeysFromVault() throws {
        let gateway = try Self.gateway()
        let yaml = """
            listen: 127.0.0.1:0
            upstream:
              url: https://example.com
            secrets:
              vault:
                address: \(gateway.bao.address)
                approle: { role_id: { env: VAULT_ROLE_ID }, secret_id: { env: VAULT_SECRET_ID } }
            sites:
              - id: a
                keys: { vault: secret/data/justgate/keys/horoscope-daily }
                upstream_token: { vault: secret/data/justgate/horoscope-daily, field: token }
              - id: b
                keys: { vault: secret/data/justgate/keys/missing }
                upstream_token: { vault: secret/data/justgate/horoscope-daily, field: token }
            """
        let cli = CommandLineTests()
        let path = try cli.writeTemporary(yaml)
        let environment = ["VAULT_ROLE_ID": gateway.credentials.roleID, "VAULT_SECRET_ID": gateway.credentials.secretID]
        let outcome = try cli.run(["check-config", "--config", path], environment: environment)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("sites[1].keys: site 'b': Vault secret/data/justgate/keys/missing (field keys): no secret"),
                "\(outcome.stderr)")
        #expect(outcome.stderr.contains("1 problem above"), "\(outcome.stderr)")
        let sites = try cli.run(["sites", "--config", path], environment: environment)
        let fingerprint = SiteKey(sha256: SiteKeys.sha256(GatewayFixture.horoscopeKey)).fingerprint
        #expect(sites.stdout.contains("keys from vault secret/data/justgate/keys/horoscope-daily field keys, KV version 1"),
                "\(sites.stdout)")
        #expect(sites.stdout.contains("\(fingerprint)  current, no expiry"), "\(sites.stdout)")
        gateway.expectNoSecrets(in: [outcome.stdout, outcome.stderr, sites.stdout, sites.stderr])
    }
}

extension VaultTokenTests.VaultGateway {
    /// One call to the server's API with its root token.
    func api(_ method: String, _ path: String) throws {
        try bao.api(method, path)
    }
}
