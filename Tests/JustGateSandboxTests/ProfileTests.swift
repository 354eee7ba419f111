import JustGateSandbox
import Testing

@Suite("profile.create")
struct ProfileTests {
    @Test func createReturnsTheGeneratedJUIDAsPlainText() {
        let fixture = SandboxFixture()
        let response = fixture.send(
            "POST", "/api/user/v1/subscription/create/profile",
            form: [("ip", "8.8.8.8"), ("name", "Bob"), ("gender", "m"), ("birthDate", "631152000")])
        #expect(response == text(200, "00000000000000000000000000000001"))
        #expect(fixture.createProfile() == "00000000000000000000000000000002")
    }

    @Test func createNeedsNoFields() {
        let fixture = SandboxFixture()
        #expect(fixture.send("POST", "/api/user/v1/subscription/create/profile").status == 200)
    }

    @Test func defaultGeneratorIssuesDistinctLowercaseHexJUIDs() {
        let api = SandboxAPI(tokens: ["t"], clock: { 0 })
        let request = SandboxRequest(method: "POST", path: "/api/user/v1/subscription/create/profile", token: "t")
        let first = api.handle(request).body
        let second = api.handle(request).body
        for juid in [first, second] {
            #expect(juid.utf8.count == 32)
            #expect(juid.allSatisfy { "0123456789abcdef".contains($0) })
        }
        #expect(first != second)
    }

    @Test(arguments: [
        [("birthDate", "12.5.1990")],
        [("birthDate", "99999999999999999999")],
        [("name", String(repeating: "я", count: 256))],
        [("ip", String(repeating: "1", count: 300))],
    ])
    func unstorableValuesAreRejected(form: [(String, String)]) {
        let fixture = SandboxFixture()
        let response = fixture.send(
            "POST", "/api/user/v1/subscription/create/profile", form: form.map { (name: $0.0, value: $0.1) })
        #expect(response == text(400, "Error save data"))
    }

    @Test func negativeBirthDateAndMaximumLengthNameAreStored() {
        let fixture = SandboxFixture()
        let response = fixture.send(
            "POST", "/api/user/v1/subscription/create/profile",
            form: [("birthDate", "-86400"), ("name", String(repeating: "я", count: 255))])
        #expect(response.status == 200)
    }

    @Test func creationFailsOnceCapacityIsReached() {
        let fixture = SandboxFixture(profileCapacity: 2)
        _ = fixture.createProfile()
        _ = fixture.createProfile(token: SandboxFixture.otherToken)
        let response = fixture.send("POST", "/api/user/v1/subscription/create/profile")
        #expect(response == text(500, "Error save data"))
    }

    @Test func aGeneratorThatOnlyRepeatsItselfFailsInsteadOfLooping() {
        let api = SandboxAPI(tokens: ["t"], clock: { 0 }, juidGenerator: { "de6f0132ea9e412599ae31262c45633b" })
        let request = SandboxRequest(method: "POST", path: "/api/user/v1/subscription/create/profile", token: "t")
        #expect(api.handle(request) == text(200, "de6f0132ea9e412599ae31262c45633b"))
        #expect(api.handle(request) == text(500, "Error save data"))
    }

    @Test func anInvalidGeneratedJUIDIsNotHandedOut() {
        let api = SandboxAPI(tokens: ["t"], clock: { 0 }, juidGenerator: { "not-a-juid" })
        let request = SandboxRequest(method: "POST", path: "/api/user/v1/subscription/create/profile", token: "t")
        #expect(api.handle(request) == text(500, "Error save data"))
    }

    @Test func uppercaseGeneratedJUIDIsIssuedLowercase() {
        let api = SandboxAPI(tokens: ["t"], clock: { 0 }, juidGenerator: { "DE6F0132EA9E412599AE31262C45633B" })
        let request = SandboxRequest(method: "POST", path: "/api/user/v1/subscription/create/profile", token: "t")
        #expect(api.handle(request).body == "de6f0132ea9e412599ae31262c45633b")
    }
}
