import Foundation
import JustGateSandbox
import Testing

/// Every operation through the real path: a socket client → justgate's epoll server → pipeline →
/// libcurl → the sandbox over loopback → back. Assertions check what the upstream received.
@Suite(.serialized)
struct EndToEndTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"

    /// Creates a profile through the gateway and returns its juid.
    func createProfile(_ gateway: GatewayFixture) throws -> String {
        let response = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                        contentType: "application/x-www-form-urlencoded", body: "ip=8.8.8.8&name=Bob")
        #expect(response.status == 200)
        return response.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func lastUpstreamRequest(_ gateway: GatewayFixture) throws -> SandboxRequest {
        try #require(gateway.runtime.sandbox?.api.receivedRequests().last)
    }

    @Test func profileCreateForwardsCanonicalFormWithInjectedToken() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                        contentType: "application/x-www-form-urlencoded",
                                        body: "ip=+8.8.8.8+&name=++Bob++Smith&gender=MALE")
        #expect(response.status == 200)
        #expect(response.text.count == 32)
        #expect(response.header("X-Request-Id")?.isEmpty == false)
        let upstream = try lastUpstreamRequest(gateway)
        #expect(upstream.method == "POST")
        #expect(upstream.path == "/api/user/v1/subscription/create/profile")
        #expect(upstream.token == GatewayFixture.horoscopeToken)
        #expect(upstream.form.map(\.name) == ["ip", "name", "gender"])
        #expect(upstream.form.map(\.value) == ["8.8.8.8", "Bob Smith", "male"])
    }

    @Test(arguments: ["urlencoded", "multipart", "json"])
    func subscribeSMSInEveryEncodingNormalisesThePhone(encoding: String) throws {
        let gateway = try GatewayFixture()
        let juid = try createProfile(gateway)
        let (type, body) = Encodings.body(encoding, ["juid": juid.uppercased(), "number": "8 (912) 345-67-89", "refid": "ch-api"])
        let response = try gateway.send("POST", "/api/user/v1/subscription/subscribe/sms", contentType: type, body: body)
        #expect(response.status == 200, "\(response.text)")
        let upstream = try lastUpstreamRequest(gateway)
        #expect(upstream.form.first { $0.name == "number" }?.value == "79123456789")
        #expect(upstream.form.first { $0.name == "juid" }?.value == juid)
        #expect(upstream.form.first { $0.name == "refid" }?.value == "ch-api")
    }

    @Test func fullFlowThroughEveryOperation() throws {
        let gateway = try GatewayFixture()
        let juid = try createProfile(gateway)
        let form = "application/x-www-form-urlencoded"
        var response = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email", contentType: form,
                                        body: "juid=\(juid)&email=Email@Email.COM&refid=ch-news&regUrl=HTTPS://Example.COM/a")
        #expect(response.status == 200, "\(response.text)")
        #expect(try lastUpstreamRequest(gateway).form.first { $0.name == "email" }?.value == "email@email.com")

        response = try gateway.send("POST", "/api/user/v1/subscription/subscribe/sms", contentType: form,
                                    body: "juid=\(juid)&number=%2B7+912+345-67-89&refid=ch-sms")
        #expect(response.status == 200, "\(response.text)")

        response = try gateway.send("POST", "/api/user/v1/action/", contentType: form, body: "juid=\(juid)&tags=1,2,+3,2&label=login")
        #expect(response.status == 200, "\(response.text)")
        #expect(try lastUpstreamRequest(gateway).form.first { $0.name == "tags" }?.value == "1,2,3")

        response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        #expect(response.status == 200)
        #expect(response.text == "[1,2,3,35,36]")
        #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)

        response = try gateway.send("PUT", "/api/user/v1/subscription/update/utm-metric/channel/EMAIL", contentType: form,
                                    body: "data=" + "\"{\"email\":\"EMAIL@email.com\",\"refid\":\"ch-updated\"}\"".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(response.status == 200, "\(response.text)")
        let utm = try lastUpstreamRequest(gateway)
        #expect(utm.path == "/api/user/v1/subscription/update/utm-metric/channel/email")
        #expect(utm.method == "PUT")

        response = try gateway.send("GET", "/api/user/v1/stat/get-count-refid/sms?startDate=0&endDate=4102444800")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.text.contains("ch-sms"))

        response = try gateway.send("GET", "/api/user/v1/info/stat-by-refid/channel/email?start=2000-01-01&end=2099-12-31T23:59:59Z")
        #expect(response.status == 200, "\(response.text)")
        #expect(response.text.contains("ch-updated"))
        let stat = try lastUpstreamRequest(gateway)
        #expect(stat.query.first { $0.name == "start" }?.value == "2000-01-01 00:00:00")
        #expect(stat.query.first { $0.name == "end" }?.value == "2099-12-31 23:59:59")

        response = try gateway.send("PUT", "/api/user/v1/subscription/unsubscribe/email", contentType: form,
                                    body: "juid=\(juid)&email=email@email.com")
        #expect(response.status == 200, "\(response.text)")
        response = try gateway.send("PUT", "/api/user/v1/subscription/unsubscribe/sms", contentType: form,
                                    body: "juid=\(juid)&number=89123456789")
        #expect(response.status == 200, "\(response.text)")
        response = try gateway.send("GET", "/api/user/v1/info/segment?juid=\(juid)")
        #expect(response.text == "[1,2,3]")
    }

    @Test func aliasesAreForwardedInCanonicalForm() throws {
        let gateway = try GatewayFixture()
        let juid = try createProfile(gateway)
        let form = "application/x-www-form-urlencoded"
        _ = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email", contentType: form, body: "juid=\(juid)&email=a@b.co")

        var response = try gateway.send("POST", "/api/user/v1/subscription/unsubscribe/email", contentType: form,
                                        body: "juid=\(juid)&email=a@b.co")
        #expect(response.status == 200, "\(response.text)")
        #expect(try lastUpstreamRequest(gateway).method == "PUT")

        response = try gateway.send("GET", "/api/user/v1/info/segments/?juid=\(juid)")
        #expect(response.status == 200)
        var upstream = try lastUpstreamRequest(gateway)
        #expect(upstream.path == "/api/user/v1/info/segment/")
        #expect(upstream.method == "GET")

        response = try gateway.send("POST", "/api/user/v1/info/segments", contentType: form, body: "juid=\(juid)")
        #expect(response.status == 200)
        upstream = try lastUpstreamRequest(gateway)
        #expect(upstream.method == "GET")
        #expect(upstream.query.first?.value == juid)

        response = try gateway.send("GET", "/api/user/v1/stat/stat-by-refid/channel/sms?start=2020-08-11%2020:38:49&end=2020-11-29%2000:27:52")
        #expect(response.status == 200, "\(response.text)")
        #expect(try lastUpstreamRequest(gateway).path == "/api/user/v1/info/stat-by-refid/channel/sms")
    }

    @Test func unknownFieldsAreDroppedWhenTheConfigSaysSo() throws {
        let gateway = try GatewayFixture(extraYAML: "validation:\n  unknown_fields: drop\n")
        let response = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                        contentType: "application/x-www-form-urlencoded",
                                        body: "name=Bob&utm_content=banner&Cookie=x")
        #expect(response.status == 200, "\(response.text)")
        let upstream = try lastUpstreamRequest(gateway)
        #expect(upstream.form.map(\.name) == ["name"])
    }

    @Test func upstreamAnswersAreRelayedUnchanged() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email",
                                        contentType: "application/x-www-form-urlencoded",
                                        body: "juid=\(juid)&email=email@email.com")
        #expect(response.status == 404)
        #expect(response.text == "User not found")
        #expect(response.header("Content-Type")?.hasPrefix("text/plain") == true)
    }

    @Test func siteRequestIDIsKeptAndForwarded() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", headers: ["X-Request-Id: site-abc.123"])
        #expect(response.header("X-Request-Id") == "site-abc.123")
        let bad = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", headers: ["X-Request-Id: <script>"])
        #expect(bad.header("X-Request-Id") != "<script>")
        #expect(bad.header("X-Request-Id")?.count == 32)
    }
}

/// The same fields in each body encoding sites use.
enum Encodings {
    static func body(_ encoding: String, _ fields: KeyValuePairs<String, String>) -> (String, String) {
        switch encoding {
        case "multipart":
            let boundary = "------------------------d74496d66958873e"
            var body = ""
            for (name, value) in fields {
                body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
            }
            body += "--\(boundary)--\r\n"
            return ("multipart/form-data; boundary=\(boundary)", body)
        case "json":
            let object = Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return ("application/json", String(decoding: data, as: UTF8.self))
        default:
            let pairs = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            return ("application/x-www-form-urlencoded", pairs.joined(separator: "&"))
        }
    }
}
