import Foundation
import Testing

/// The limit stage through the real server, with the memory backend: what clients see, which
/// requests count, and which keys are one.
@Suite(.serialized)
struct RateLimitTests {
    static let form = "application/x-www-form-urlencoded"
    static let smsPath = "/api/user/v1/subscription/subscribe/sms"

    func profile(_ gateway: GatewayFixture) throws -> String {
        let response = try gateway.send("POST", "/api/user/v1/subscription/create/profile", contentType: Self.form,
                                        body: "ip=8.8.8.8&name=Bob")
        #expect(response.status == 200)
        return response.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func sms(_ gateway: GatewayFixture, juid: String, number: String, key: String? = GatewayFixture.horoscopeKey)
        throws -> RawHTTPClient.Response {
        let encoded = number.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? number
        return try gateway.send("POST", Self.smsPath, key: key, contentType: Self.form, body: "juid=\(juid)&number=\(encoded)")
    }

    static let perNumber = """
        limits:
          - { name: sms-per-number, scope: number, operations: [subscribe.sms], rate: 3/h, burst: 3 }
        """

    @Test func theFourthSMSToOneNumberIsRefusedWithEverythingAClientNeeds() throws {
        let gateway = try GatewayFixture(horoscopeYAML: Self.perNumber)
        let juid = try profile(gateway)
        for _ in 0..<3 {
            let response = try sms(gateway, juid: juid, number: "79123456789")
            #expect(response.status == 200, "\(response.text)")
            #expect(response.header("RateLimit-Policy") == "\"sms-per-number\";q=3;w=3600")
        }
        let refused = try sms(gateway, juid: juid, number: "79123456789")
        #expect(refused.status == 429)
        #expect(refused.header("Content-Type") == "application/problem+json")
        let retryAfter = try #require(refused.header("Retry-After").flatMap(Int.init))
        #expect((1199...1200).contains(retryAfter))
        #expect(refused.header("RateLimit-Policy") == "\"sms-per-number\";q=3;w=3600")
        let standing = try #require(refused.header("RateLimit"))
        #expect(standing.hasPrefix("\"sms-per-number\";r=0;t="))
        let json = try #require(refused.json)
        #expect(json["type"] as? String == "urn:justgate:problem:quota-exceeded")
        #expect(json["policies"] as? [String] == ["sms-per-number"])
        // The refused request never reached the upstream: three subscriptions, not four.
        let upstreamCalls = gateway.runtime.sandbox?.api.receivedRequests().filter { $0.path == Self.smsPath }.count
        #expect(upstreamCalls == 3)
        // The log line says which policy refused it.
        let log = gateway.logText(containing: "rate_limited")
        #expect(log.contains("\"outcome\":\"rate_limited\",\"policy\":\"sms-per-number\""))
    }

    @Test func admittedAnswersReportTheTightestPolicy() throws {
        // The site policy is loose (100 at once) but refills slowly (one per 36 s): the three calls below leave
        // exactly 97 however long a loaded machine takes between them, where at 100/s a pause of 10 ms
        // gave one back.
        let gateway = try GatewayFixture(horoscopeYAML: """
            limits:
              - { name: site, scope: site, rate: 100/h, burst: 100 }
              - { name: sms-per-number, scope: number, operations: [subscribe.sms], rate: 3/h }
            """)
        let juid = try profile(gateway)
        let first = try sms(gateway, juid: juid, number: "79123456789")
        #expect(first.header("RateLimit") == "\"sms-per-number\";r=2;t=1200")
        // An operation the per-number policy does not count reports the site policy.
        let segments = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        #expect(segments.status == 200)
        #expect(segments.header("RateLimit")?.hasPrefix("\"site\";r=97;") == true)
    }

    @Test func twoSpellingsOfOnePhoneAreOneKey() throws {
        let gateway = try GatewayFixture(horoscopeYAML: Self.perNumber)
        let juid = try profile(gateway)
        #expect(try sms(gateway, juid: juid, number: "+7 912 345 67 89").status == 200)
        #expect(try sms(gateway, juid: juid, number: "79123456789").status == 200)
        #expect(try sms(gateway, juid: juid, number: "8 (912) 345-67-89").status == 200)
        #expect(try sms(gateway, juid: juid, number: "+7 (912) 345 67 89").status == 429)
        // Another number has its own quota.
        #expect(try sms(gateway, juid: juid, number: "79123456700").status == 200)
    }

    @Test func rejectedUnauthorisedAndInvalidRequestsBurnNoQuota() throws {
        let gateway = try GatewayFixture(horoscopeYAML: """
            limits:
              - { name: sms-site, scope: operation, operations: [subscribe.sms], rate: 5/h }
              - { name: sms-per-number, scope: number, operations: [subscribe.sms], rate: 1/h }
            """)
        let juid = try profile(gateway)
        // Invalid (bad juid) and unauthorised requests for the number count nowhere.
        for _ in 0..<5 {
            #expect(try sms(gateway, juid: "nope", number: "79123456789").status == 422)
            #expect(try sms(gateway, juid: juid, number: "79123456789", key: "not-a-key").status == 401)
        }
        #expect(try sms(gateway, juid: juid, number: "79123456789").status == 200)
        // Refused by the per-number policy: the operation-wide policy is not charged either.
        for _ in 0..<5 {
            let refused = try sms(gateway, juid: juid, number: "79123456789")
            #expect(refused.status == 429)
            #expect(refused.json?["policies"] as? [String] == ["sms-per-number"])
        }
        // So four other numbers still fit in the operation's 5, and the sixth call is refused by it.
        for suffix in 0..<4 {
            #expect(try sms(gateway, juid: juid, number: "7912345670\(suffix)").status == 200)
        }
        let sixth = try sms(gateway, juid: juid, number: "79123456709")
        #expect(sixth.status == 429)
        #expect(sixth.json?["policies"] as? [String] == ["sms-site"])
    }

    @Test func sitesHaveTheirOwnLimits() throws {
        let gateway = try GatewayFixture(horoscopeYAML: """
            limits:
              - { name: all, scope: site, rate: 1/h }
            """)
        let juid = try profile(gateway)
        #expect(try sms(gateway, juid: juid, number: "79123456789").status == 429)
        // news-portal has no limits.
        for _ in 0..<3 {
            #expect(try sms(gateway, juid: juid, number: "79123456789", key: GatewayFixture.newsKey).status != 429)
        }
    }
}
