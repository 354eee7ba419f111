import Foundation
import JustGateCore
import Testing

/// A site with several keys, one of them expired, through the real server: the expired key is a 401 that
/// says so (naming the key by fingerprint, never the key), and the site's other keys go on working.
@Suite(.serialized)
struct SiteKeyRotationEndToEndTests {
    static let oldKey = "rotation-old-key-0123456789abcdefghijklmno"
    static let newKey = "rotation-new-key-0123456789abcdefghijklmno"
    /// 2027-01-31 00:00:00 UTC, when `oldKey` expires.
    static let expiry: Int64 = 1_801_353_600
    static let keysYAML = """
        keys:
          - { sha256: "\(SiteKeys.sha256Hex(oldKey))", expires: 2027-01-31 }
          - { sha256: "\(SiteKeys.sha256Hex(newKey))", expires: "2030-01-01T00:00:00Z" }
        """

    func createProfile(_ gateway: GatewayFixture, key: String) throws -> RawHTTPClient.Response {
        try gateway.send("POST", "/api/user/v1/subscription/create/profile", key: key,
                         contentType: "application/x-www-form-urlencoded", body: "ip=8.8.8.8&name=Bob")
    }

    @Test func anExpiredKeyIsRefusedSayingSoAndTheSitesOtherKeysWork() throws {
        let gateway = try GatewayFixture(horoscopeYAML: Self.keysYAML, wallClock: { Self.expiry })
        let refused = try createProfile(gateway, key: Self.oldKey)
        #expect(refused.status == 401)
        #expect(refused.header("Content-Type") == "application/problem+json")
        #expect(refused.header("WWW-Authenticate") == "Bearer realm=\"justgate\"")
        let problem = try #require(refused.json)
        #expect(problem["type"] as? String == "urn:justgate:problem:unauthorized")
        #expect(problem["title"] as? String == "Missing, unknown or expired site key")
        let fingerprint = String(SiteKeys.sha256Hex(Self.oldKey).prefix(12))
        #expect(problem["detail"] as? String == "The site key with fingerprint \(fingerprint) (of site horoscope-daily) "
            + "expired at 2027-01-31 00:00:00 UTC; send the site's current key.")
        #expect(!refused.text.contains(Self.oldKey))
        #expect(!refused.text.contains(SiteKeys.sha256Hex(Self.oldKey)))
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true, "an expired key reached the upstream")

        let viaNewKey = try createProfile(gateway, key: Self.newKey)
        #expect(viaNewKey.status == 200, "\(viaNewKey.text)")
        let viaKeySHA256 = try createProfile(gateway, key: GatewayFixture.horoscopeKey)
        #expect(viaKeySHA256.status == 200, "\(viaKeySHA256.text)")
        let requests = gateway.runtime.sandbox?.api.receivedRequests() ?? []
        #expect(requests.count == 2)
        #expect(requests.allSatisfy { $0.token == GatewayFixture.horoscopeToken })

        let log = gateway.logText(containing: "\"status\":401")
        #expect(!log.contains(Self.oldKey))
        #expect(!log.contains(Self.newKey))
    }

    @Test func theOldKeyWorksUntilTheSecondBeforeItsExpiry() throws {
        let gateway = try GatewayFixture(horoscopeYAML: Self.keysYAML, wallClock: { Self.expiry - 1 })
        let response = try createProfile(gateway, key: Self.oldKey)
        #expect(response.status == 200, "\(response.text)")
        let unknown = try createProfile(gateway, key: "never-issued-key-0123456789abcdefghijklmno")
        #expect(unknown.status == 401)
        #expect(unknown.json?["detail"] as? String
            == "The site key is not known to this gateway; use the key justgate issued for your site.")
    }
}
