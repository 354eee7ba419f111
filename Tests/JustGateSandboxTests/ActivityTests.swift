import JustGateSandbox
import Testing

@Suite("action.save and segments.get")
struct ActivityTests {
    let actionPath = "/api/user/v1/action/"

    @Test func numericTagsBecomeSortedUniqueSegments() {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        let first = fixture.send("POST", actionPath, form: [("juid", juid), ("tags", "3,1,2"), ("label", "login")])
        #expect(first == text(200, "Request accepted"))
        let second = fixture.send(
            "POST", "/api/user/v1/action",
            form: [("juid", juid), ("tags", " 40 , promo,2,-5,,007"), ("label", "read"), ("article", "a-1")])
        #expect(second == text(200, "Request accepted"))
        #expect(fixture.segments(juid) == json("[1,2,3,7,40]"))
    }

    @Test func subscriptionSegmentsMatchTheReferenceSample() {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        _ = fixture.subscribe("email", juid: juid, address: "email@email.com")
        _ = fixture.subscribe("sms", juid: juid, address: "00000000000")
        #expect(fixture.segments(juid) == json("[35,36]"))
    }

    @Test func aNewProfileHasNoSegments() {
        let fixture = SandboxFixture()
        #expect(fixture.segments(fixture.createProfile()) == json("[]"))
    }

    @Test func theHeadingVariantAndPostAreAccepted() {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        _ = fixture.subscribe("sms", juid: juid, address: "1")
        #expect(fixture.send("GET", "/api/user/v1/info/segments", query: [("juid", juid)]) == json("[36]"))
        #expect(fixture.send("POST", "/api/user/v1/info/segments/", form: [("juid", juid)]) == json("[36]"))
    }

    @Test func segmentsOfMissingOrUnknownJUID() {
        let fixture = SandboxFixture()
        #expect(fixture.send("GET", "/api/user/v1/info/segment/") == text(400, "JUID not found"))
        #expect(fixture.segments("") == text(400, "JUID not found"))
        #expect(fixture.segments("xyz") == text(404, "User not found"))
        #expect(fixture.segments("de6f0132ea9e412599ae31262c45633b") == text(404, "User not found"))
    }

    @Test(arguments: [
        ([("tags", "1"), ("label", "login")], text(400, "JuId is missing")),
        ([("juid", ""), ("tags", "1"), ("label", "login")], text(400, "JuId is missing")),
        ([("juid", "00000000000000000000000000000001"), ("label", "login")], text(400, "Mandatory parameter is missing")),
        ([("juid", "00000000000000000000000000000001"), ("tags", "1")], text(400, "Mandatory parameter is missing")),
        ([("juid", "00000000000000000000000000000001"), ("tags", ""), ("label", "login")],
         text(400, "Mandatory parameter is missing")),
        ([("juid", "0000000000000000000000000000001"), ("tags", "1"), ("label", "login")], text(404, "User not found")),
    ])
    func actionWithoutMandatoryFieldsIsRejected(form: [(String, String)], expected: SandboxResponse) {
        let fixture = SandboxFixture()
        _ = fixture.createProfile()
        let response = fixture.send("POST", actionPath, form: form.map { (name: $0.0, value: $0.1) })
        #expect(response == expected)
    }

    @Test func actionForUnknownUserOrWithOverlongArticle() {
        let fixture = SandboxFixture()
        let unknown = fixture.send(
            "POST", actionPath, form: [("juid", SequentialJUIDs.juid(7)), ("tags", "1"), ("label", "login")])
        #expect(unknown == text(404, "User not found"))
        let juid = fixture.createProfile()
        let overlong = fixture.send(
            "POST", actionPath,
            form: [("juid", juid), ("tags", "1"), ("label", "l"), ("article", String(repeating: "a", count: 256))])
        #expect(overlong == text(400, "Error save data"))
        #expect(fixture.segments(juid) == json("[]"), "a rejected action leaves no segments behind")
    }
}
