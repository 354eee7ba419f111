import JustGateSandbox
import Testing

@Suite("authentication, routing and methods")
struct RoutingAndAuthTests {
    @Test(arguments: [nil, "", "wrong-token", SandboxFixture.token.lowercased()])
    func missingOrUnknownTokenIsUnauthorized(token: String?) {
        let fixture = SandboxFixture()
        let response = fixture.send("POST", "/api/user/v1/subscription/create/profile", token: token)
        #expect(response == text(401, "Invalid token"))
    }

    @Test func tokenIsCheckedBeforeThePath() {
        let fixture = SandboxFixture()
        #expect(fixture.send("GET", "/nope", token: nil) == text(401, "Invalid token"))
    }

    @Test(arguments: [
        "/", "/api/user/v1", "/api/user/v2/action/", "/api/user/v1/actions/", "/api/user/v1/action/extra",
        "/api/user/v1/subscription/subscribe/push", "/api/user/v1/subscription/unsubscribe/fax",
        "/api/user/v1/stat/get-count-refid/push", "/api/user/v1/info/stat-by-refid/channel/push",
        "/api/user/v1/subscription/update/utm-metric/channel/fax", "/API/user/v1/action/",
        "/api/user/v1/info/segment/extra",
    ])
    func unknownPathIsNotFound(path: String) {
        let fixture = SandboxFixture()
        #expect(fixture.send("POST", path) == text(404, "Not found"))
    }

    @Test(arguments: [
        ("GET", "/api/user/v1/subscription/create/profile"),
        ("PUT", "/api/user/v1/subscription/subscribe/email"),
        ("GET", "/api/user/v1/subscription/unsubscribe/sms"),
        ("DELETE", "/api/user/v1/subscription/update/utm-metric/channel/email"),
        ("GET", "/api/user/v1/action/"),
        ("PUT", "/api/user/v1/info/segment/"),
        ("POST", "/api/user/v1/stat/get-count-refid/sms"),
        ("POST", "/api/user/v1/info/stat-by-refid/channel/sms"),
        ("post", "/api/user/v1/action/"),
    ])
    func wrongMethodIsNotAllowed(method: String, path: String) {
        let fixture = SandboxFixture()
        #expect(fixture.send(method, path) == text(405, "Method not allowed"))
    }

    @Test(arguments: [
        "/api/user/v1/subscription/create/profile",
        "/api/user/v1/subscription/create/profile/",
        "api/user/v1/subscription/create/profile",
        "/api/user/v1/subscription/create/profile//",
    ])
    func slashesAreOptional(path: String) {
        let fixture = SandboxFixture()
        #expect(fixture.send("POST", path).status == 200)
    }

    @Test(arguments: [
        ("POST", "/api/user/v1/subscription/subscribe/email"),
        ("POST", "/api/user/v1/subscription/subscribe/sms/"),
        ("PUT", "/api/user/v1/subscription/unsubscribe/email/"),
        ("PUT", "/api/user/v1/subscription/update/utm-metric/channel/push/"),
        ("POST", "/api/user/v1/action"),
        ("GET", "/api/user/v1/info/segment"),
        ("GET", "/api/user/v1/stat/get-count-refid/email/"),
        ("GET", "/api/user/v1/info/stat-by-refid/channel/sms/"),
    ])
    func everyOperationIsRoutedWithOrWithoutTrailingSlash(method: String, path: String) {
        let fixture = SandboxFixture()
        let response = fixture.send(method, path)
        #expect(response.status == 400, "reached the operation, which rejects the empty request")
    }
}
