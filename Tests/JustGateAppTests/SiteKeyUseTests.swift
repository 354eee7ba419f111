import Foundation
import JustGateCore
import Testing

/// Which of a site's keys each request used, through the real server: the key's fingerprint in the log line and
/// the audit record, its last use as a metric, and an expired key's 401 named after its site everywhere.
@Suite(.serialized)
struct SiteKeyUseTests {
    static let oldKey = "rotation-old-key-0123456789abcdefghijklmno"
    static let newKey = "rotation-new-key-0123456789abcdefghijklmno"
    /// 2027-01-31 00:00:00 UTC, when `oldKey` expires.
    static let expiry: Int64 = 1_801_353_600
    static let keysYAML = """
        keys:
          - { sha256: "\(SiteKeys.sha256Hex(oldKey))", expires: 2027-01-31 }
          - { sha256: "\(SiteKeys.sha256Hex(newKey))", expires: "2030-01-01T00:00:00Z" }
        """
    static let read = "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b"

    func createProfile(_ gateway: GatewayFixture, key: String) throws -> RawHTTPClient.Response {
        try gateway.send("POST", "/api/user/v1/subscription/create/profile", key: key,
                         contentType: "application/x-www-form-urlencoded", body: "ip=8.8.8.8&name=Bob")
    }

    static func fingerprint(_ key: String) -> String { String(SiteKeys.sha256Hex(key).prefix(12)) }

    func gateway(now: Int64) throws -> GatewayFixture {
        try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0", horoscopeYAML: Self.keysYAML, wallClock: { now })
    }

    @Test func anExpiredKeysRefusalNamesItsSiteAndKeyInLogAuditAndMetrics() throws {
        let gateway = try gateway(now: Self.expiry)
        let refused = try gateway.send("GET", Self.read, key: Self.oldKey)
        #expect(refused.status == 401)
        let id = try #require(refused.header("X-Request-Id"))
        let log = FailureReasonTests.line(in: gateway.logText, id: id, message: "request")
        #expect(log["site"] as? String == "horoscope-daily", "\(log)")
        #expect(log["key"] as? String == Self.fingerprint(Self.oldKey))
        #expect(log["outcome"] as? String == "rejected_auth")
        let audit = FailureReasonTests.line(in: gateway.auditText, id: id)
        #expect(audit["site"] as? String == "horoscope-daily", "\(audit)")
        #expect(audit["key"] as? String == Self.fingerprint(Self.oldKey))
        #expect(try FailureReasonTests.metric(gateway, "justgate_requests_total",
                                              ["site": "horoscope-daily", "status": "401", "outcome": "rejected_auth"]) == 1)
        // An unknown key still has no site: nothing in it says whose it would be.
        let unknown = try gateway.send("GET", Self.read, key: "never-issued-key-0123456789abcdefghijklmno")
        let unknownLog = FailureReasonTests.line(in: gateway.logText, id: try #require(unknown.header("X-Request-Id")),
                                                 message: "request")
        #expect(unknownLog["outcome"] as? String == "rejected_auth" && unknownLog["site"] == nil && unknownLog["key"] == nil)
    }

    @Test func everyAnsweredRequestRecordsTheFingerprintOfTheKeyItUsed() throws {
        let gateway = try gateway(now: Self.expiry - 100)
        for key in [Self.oldKey, Self.newKey] {
            let response = try createProfile(gateway, key: key)
            #expect(response.status == 200, "\(response.text)")
            let id = try #require(response.header("X-Request-Id"))
            let log = FailureReasonTests.line(in: gateway.logText, id: id, message: "request")
            #expect(log["key"] as? String == Self.fingerprint(key), "\(log)")
            let audit = FailureReasonTests.line(in: gateway.auditText, id: id)
            #expect(audit["key"] as? String == Self.fingerprint(key), "\(audit)")
            let text = gateway.auditText() + gateway.logText()
            #expect(!text.contains(key) && !text.contains(SiteKeys.sha256Hex(key)))
        }
        // A request refused after authentication (an invalid field) names its key too.
        let invalid = try gateway.send("GET", "/api/user/v1/info/segment/?juid=nope", key: Self.newKey)
        #expect(invalid.status == 422)
        let audit = FailureReasonTests.line(in: gateway.auditText, id: try #require(invalid.header("X-Request-Id")))
        #expect(audit["key"] as? String == Self.fingerprint(Self.newKey))
    }

    @Test func eachKeysLastUseIsAMetricAndSurvivesAReload() throws {
        let now = Self.expiry - 100
        let gateway = try gateway(now: now)
        #expect(try createProfile(gateway, key: Self.newKey).status == 200)
        let newKeyUse = ["site": "horoscope-daily", "key": Self.fingerprint(Self.newKey)]
        #expect(try FailureReasonTests.metric(gateway, "justgate_site_key_last_used_timestamp_seconds", newKeyUse) == Double(now))
        // Never used since start: 0 (an alert takes `> 0` or `time() - … > N` with care).
        let port = try #require(gateway.runtime.adminAddress?.port)
        let samples = try PrometheusText.parse(try RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text)
        #expect(PrometheusText.sum(samples, "justgate_site_key_last_used_timestamp_seconds",
                                   where: ["site": "horoscope-daily", "key": Self.fingerprint(Self.oldKey)]) == 0)
        #expect(samples.contains { $0.name == "justgate_site_key_last_used_timestamp_seconds" && $0.labels["site"] == "news-portal" })
        #expect(gateway.runtime.reload(config: gateway.config, sites: gateway.sites).applied)
        #expect(try FailureReasonTests.metric(gateway, "justgate_site_key_last_used_timestamp_seconds", newKeyUse) == Double(now))
    }
}
