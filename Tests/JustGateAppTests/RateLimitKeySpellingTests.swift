import Foundation
import Testing

/// One person, written two ways, through the real server: one quota (issue 21 item 7).
@Suite(.serialized)
struct RateLimitKeySpellingTests {
    static let form = "application/x-www-form-urlencoded"
    static let smsPath = "/api/user/v1/subscription/subscribe/sms"
    static let profilePath = "/api/user/v1/subscription/create/profile"

    func profile(_ gateway: GatewayFixture, ip: String) throws -> RawHTTPClient.Response {
        let encoded = ip.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ip
        return try gateway.send("POST", Self.profilePath, contentType: Self.form, body: "ip=\(encoded)&name=Bob")
    }

    func sms(_ gateway: GatewayFixture, juid: String, number: String) throws -> RawHTTPClient.Response {
        let encoded = number.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? number
        return try gateway.send("POST", Self.smsPath, contentType: Self.form, body: "juid=\(juid)&number=\(encoded)")
    }

    @Test func aNationalNumberAndItsInternationalFormShareOneQuota() throws {
        let gateway = try GatewayFixture(horoscopeYAML: """
            limits:
              - { name: sms-per-number, scope: number, operations: [subscribe.sms], rate: 1/h }
            """)
        let juid = try profile(gateway, ip: "8.8.8.8").text.trimmingCharacters(in: .whitespacesAndNewlines)
        let first = try sms(gateway, juid: juid, number: "9123456789")
        #expect(first.status == 200, "\(first.text)")
        // Completed with the site's country code, so the upstream sees the one spelling too.
        let forwarded = gateway.runtime.sandbox?.api.receivedRequests().last { $0.path == Self.smsPath }
        #expect(forwarded?.form.first { $0.name == "number" }?.value == "79123456789")
        let second = try sms(gateway, juid: juid, number: "+7 912 345-67-89")
        #expect(second.status == 429, "\(second.text)")
        #expect(second.json?["policies"] as? [String] == ["sms-per-number"])
    }

    @Test func twoAddressesOfOneIPv6NetworkShareOneQuota() throws {
        let gateway = try GatewayFixture(horoscopeYAML: """
            limits:
              - { name: profiles-per-ip, scope: ip, operations: [profile.create], rate: 1/h }
            """)
        #expect(try profile(gateway, ip: "2001:db8:1:2::1").status == 200)
        let sameNetwork = try profile(gateway, ip: "2001:db8:1:2:a:b:c:d")
        #expect(sameNetwork.status == 429, "\(sameNetwork.text)")
        #expect(try profile(gateway, ip: "2001:db8:1:3::1").status == 200)  // the next /64 is someone else
        // IPv4 behind NAT64 is the IPv4 client; the upstream still sees the address the site sent.
        #expect(try profile(gateway, ip: "192.0.2.7").status == 200)
        #expect(try profile(gateway, ip: "64:ff9b::c000:207").status == 429)
        let forwarded = gateway.runtime.sandbox?.api.receivedRequests().filter { $0.path == Self.profilePath }
        #expect(forwarded?.compactMap { $0.form.first { $0.name == "ip" }?.value }
                == ["2001:db8:1:2::1", "2001:db8:1:3::1", "192.0.2.7"])
    }
}
