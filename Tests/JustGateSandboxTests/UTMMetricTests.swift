import JustGateSandbox
import Testing

@Suite("utm.update")
struct UTMMetricTests {
    let path = "/api/user/v1/subscription/update/utm-metric/channel/"

    @Test func updatingRefidMovesTheSubscriptionInStatistics() {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        _ = fixture.subscribe("email", juid: juid, address: "123@123.com", refid: "ch-old")
        let range = (SandboxFixture.start, SandboxFixture.start)
        #expect(fixture.countByRefid("email", from: range.0, to: range.1) == json(#"[{"subscount":1,"refid":"ch-old"}]"#))

        let response = fixture.send(
            "PUT", path + "email", form: [("data", #"{"email":"123@123.com","refid":"ch-api","refidm":"www"}"#)])
        #expect(response == text(200, "Metrics updated"))
        #expect(fixture.countByRefid("email", from: range.0, to: range.1) == json(#"[{"subscount":1,"refid":"ch-api"}]"#))
        #expect(
            fixture.statByRefid("email", from: "2020-08-11 00:00:00", to: "2020-08-11 23:59:59")
                == json(#"{"2020-08-11":{"ch-api":1}}"#))
    }

    @Test func theReferenceExampleWithOuterQuotesNumberLiteralAndDuplicateKeyIsAccepted() {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        _ = fixture.subscribe("sms", juid: juid, address: "99988800066", refid: "ch-old")
        let data =
            #""{"email":"123@123.com","refid":2,"number":99988800066,"refid":"ch-api_src-a8oPRJ4_lp-api","refidm":"www"}""#
        #expect(fixture.send("PUT", path + "sms", form: [("data", data)]) == text(200, "Metrics updated"))
        let stats = fixture.countByRefid("sms", from: 0, to: SandboxFixture.start)
        #expect(stats == json(#"[{"subscount":1,"refid":"ch-api_src-a8oPRJ4_lp-api"}]"#))
    }

    @Test func everyProfileWithTheAddressIsUpdatedAndPostIsTolerated() {
        let fixture = SandboxFixture()
        for _ in 0..<2 {
            _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "same@x.io", refid: "a")
        }
        let response = fixture.send("POST", path + "email/", form: [("data", #"{"email":"SAME@x.io","refid":"b"}"#)])
        #expect(response == text(200, "Metrics updated"))
        #expect(fixture.countByRefid("email", from: 0, to: SandboxFixture.start) == json(#"[{"subscount":2,"refid":"b"}]"#))
    }

    @Test func nullOrEmptyClearsTheRefid() {
        let fixture = SandboxFixture()
        _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "a@x.io", refid: "a")
        _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "b@x.io", refid: "b")
        #expect(fixture.send("PUT", path + "email", form: [("data", #"{"email":"a@x.io","refid":null}"#)]).status == 200)
        #expect(fixture.send("PUT", path + "email", form: [("data", #"{"email":"b@x.io","refid":""}"#)]).status == 200)
        #expect(fixture.countByRefid("email", from: 0, to: SandboxFixture.start) == json(#"[{"subscount":2,"refid":""}]"#))
    }

    @Test func refidWithQuotesAndUnicodeIsEscapedInStatistics() {
        let fixture = SandboxFixture()
        _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "a@x.io")
        let data = #"{"email":"a@x.io","refid":"ch-\"q\"\\\u0001-\u00e9\ud83d\ude00"}"#
        #expect(fixture.send("PUT", path + "email", form: [("data", data)]).status == 200)
        let expected = #"[{"subscount":1,"refid":"ch-\"q\"\\\u0001-é😀"}]"#
        #expect(fixture.countByRefid("email", from: 0, to: SandboxFixture.start) == json(expected))
    }

    @Test(arguments: [
        nil,
        "",
        "not json",
        "[]",
        #"{"email":"a@x.io","refid":"x"} trailing"#,
        #"{"refid":"x"}"#,
        #"{"email":"no-at-sign","refid":"x"}"#,
        #"{"email":"a@x.io"}"#,
        #"{"email":"a@x.io","regUrl":"https://x"}"#,
        #"{"email":"a@x.io","refid":true}"#,
        #"{"email":"a@x.io","refid":{"nested":1}}"#,
        #"{"email":"a@x.io","refid":"\#(String(repeating: "r", count: 256))"}"#,
        #"{"email":"a@x.io","refid":"unterminated}"#,
    ])
    func malformedDataIsInvalid(data: String?) {
        let fixture = SandboxFixture()
        _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "a@x.io")
        let form = data.map { [(name: "data", value: $0)] } ?? []
        #expect(fixture.send("PUT", path + "email", form: form) == text(400, "Invalid data"))
    }

    @Test func smsNumberMustBeDigits() {
        let fixture = SandboxFixture()
        let response = fixture.send("PUT", path + "sms", form: [("data", #"{"number":9.99e10,"refid":"x"}"#)])
        #expect(response == text(400, "Invalid data"))
    }

    @Test func dataNamingNoExistingSubscriptionIsUnprocessable() {
        let fixture = SandboxFixture()
        _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "a@x.io")
        let unknown = fixture.send("PUT", path + "email", form: [("data", #"{"email":"b@x.io","refid":"x"}"#)])
        #expect(unknown == text(422, "Unprocessable Entity"))
        let wrongChannel = fixture.send("PUT", path + "sms", form: [("data", #"{"number":"1","refid":"x"}"#)])
        #expect(wrongChannel == text(422, "Unprocessable Entity"))
    }
}
