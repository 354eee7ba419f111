import JustGateSandbox
import Testing

/// The sandbox against the reference's "Response" blocks, one test per way it used to mislead a site developer.
@Suite("fidelity to the reference's answers")
struct ReferenceFidelityTests {
    static let juidA = SequentialJUIDs.juid(1)
    static let unknownJUID = "de6f0132ea9e412599ae31262c45633b"

    /// A sandbox with profile 1 subscribed by e-mail (`email@email.com`) and SMS (`00000000000`).
    static func subscribed() -> SandboxFixture {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        _ = fixture.subscribe("email", juid: juid, address: "email@email.com")
        _ = fixture.subscribe("sms", juid: juid, address: "00000000000")
        return fixture
    }

    /// Every alternative of a `|` line is answered on its own, for the situation it names; the `/` line is
    /// one literal text.
    @Test(arguments: [
        // subscribe.sms: `JuId empty | Not validate number`
        ("POST", "subscription/subscribe/sms", [("number", "00000000000")], [], text(400, "JuId empty")),
        ("POST", "subscription/subscribe/sms", [("juid", juidA), ("number", "12a")], [], text(400, "Not validate number")),
        // subscribe.email: `JuId empty / Not validate email`, kept whole
        ("POST", "subscription/subscribe/email", [("email", "email@email.com")], [],
         text(400, "JuId empty / Not validate email")),
        ("POST", "subscription/subscribe/email", [("juid", juidA), ("email", "nope")], [],
         text(400, "JuId empty / Not validate email")),
        // unsubscribe: `JuId is missing | Mandatory parameter is missing`, `User not found | Subscription not found`
        ("PUT", "subscription/unsubscribe/email", [("email", "email@email.com")], [], text(400, "JuId is missing")),
        ("PUT", "subscription/unsubscribe/sms", [("juid", juidA)], [], text(400, "Mandatory parameter is missing")),
        ("PUT", "subscription/unsubscribe/email", [("juid", unknownJUID), ("email", "email@email.com")], [],
         text(404, "User not found")),
        ("PUT", "subscription/unsubscribe/sms", [("juid", juidA), ("number", "111")], [],
         text(404, "Subscription not found")),
        // segments.get: `User not found | JUID not found`
        ("GET", "info/segment/", [], [], text(400, "JUID not found")),
        ("GET", "info/segment/", [], [("juid", unknownJUID)], text(404, "User not found")),
    ] as [(String, String, [(String, String)], [(String, String)], SandboxResponse)])
    func eachAlternativeIsAnsweredAlone(
        method: String,
        path: String,
        form: [(String, String)],
        query: [(String, String)],
        expected: SandboxResponse
    ) {
        let fixture = Self.subscribed()
        let response = fixture.send(
            method, "/api/user/v1/" + path,
            query: query.map { (name: $0.0, value: $0.1) }, form: form.map { (name: $0.0, value: $0.1) })
        #expect(response == expected)
        #expect(!response.body.contains("|"))
    }

    /// The reference's examples show an empty answer for subscribe and unsubscribe; so does the sandbox, for
    /// a first subscribe, a re-subscribe, an unsubscribe and a repeated one.
    @Test(arguments: [("email", "email", "a@b.io"), ("sms", "number", "79990000000")])
    func successfulSubscribeAndUnsubscribeAnswerAnEmptyBody(channel: String, field: String, address: String) {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        let empty = text(200, "")
        #expect(fixture.subscribe(channel, juid: juid, address: address) == empty)
        #expect(fixture.subscribe(channel, juid: juid, address: address, refid: "ch-again") == empty)
        let unsubscribe = "/api/user/v1/subscription/unsubscribe/\(channel)"
        #expect(fixture.send("PUT", unsubscribe, form: [("juid", juid), (field, address)]) == empty)
        #expect(fixture.send("PUT", unsubscribe, form: [("juid", juid), (field, address)]) == empty)
        #expect(fixture.segments(juid) == json("[]"), "the empty answers still did their work")
    }

    /// `User not found` and `Error query` arise from their causes; `Error service`, whose cause (a failing
    /// statistics service) cannot arise in memory, comes from a forced failure.
    @Test func everyDocumentedStatisticsErrorIsProduced() throws {
        let fixture = Self.subscribed()
        // stat.count_by_refid: `Invalid startDate or endDate`, `User not found`, `Error query`
        #expect(fixture.countByRefid("sms", from: 0, to: SandboxFixture.start) == json(#"[{"subscount":1,"refid":""}]"#))
        #expect(fixture.countByRefid("sms", from: 0, to: 1_000) == text(404, "User not found"))
        #expect(fixture.countByRefid("email", from: 0, to: 1_000) == text(404, "User not found"))
        #expect(fixture.countByRefid("sms", from: -30_610_224_001, to: 0) == text(500, "Error query"))
        #expect(fixture.countByRefid("sms", from: 0, to: 253_402_300_800) == text(500, "Error query"))
        #expect(fixture.countByRefid("sms", from: -30_610_224_000, to: 253_402_300_799).status == 200,
                "1000-01-01 00:00:00 and 9999-12-31 23:59:59 are the last storable instants")
        #expect(fixture.countByRefid("sms", from: 2, to: 1) == text(400, "Invalid startDate or endDate"))
        // stat.by_refid: `Invalid start or end date`, `Error service`, `Error query`
        #expect(fixture.statByRefid("sms", from: "0999-12-31 23:59:59", to: "2020-01-01 00:00:00")
            == text(500, "Error query"))
        #expect(fixture.statByRefid("sms", from: "1000-01-01 00:00:00", to: "2020-01-01 00:00:00") == json("{}"))
        #expect(fixture.statByRefid("sms", from: "2020-01-01", to: "2020-01-02") == text(400, "Invalid start or end date"))
        let failing = SandboxAPI(
            tokens: [SandboxFixture.token], clock: { SandboxFixture.start },
            failures: try SandboxFailures(parsing: ["stat.by_refid=Error service"]))
        let service = failing.handle(SandboxRequest(
            method: "GET", path: "/api/user/v1/info/stat-by-refid/channel/email",
            query: [("start", "2020-08-11 20:38:49"), ("end", "2020-11-29 00:27:52")], token: SandboxFixture.token))
        #expect(service == text(503, "Error service"))
    }

    /// The reference lists `sms|email|push` for UTM updates; push is accepted (through both methods) while
    /// malformed push data is still refused.
    @Test func pushChannelUTMUpdateIsAccepted() {
        let fixture = Self.subscribed()
        let path = "/api/user/v1/subscription/update/utm-metric/channel/push"
        let data = #""{"email":"123@123.com","refid":2,"number":99988800066,"refid":"ch-api_src-a8oPRJ4_lp-api","refidm":"w"}""#
        #expect(fixture.send("PUT", path, form: [("data", data)]) == text(200, "Metrics updated"))
        #expect(fixture.send("POST", path + "/", form: [("data", #"{"refid":"ch-push"}"#)]) == text(200, "Metrics updated"))
        #expect(fixture.send("PUT", path, form: [("data", "not json")]) == text(400, "Invalid data"))
        #expect(fixture.send("PUT", path, form: [("data", #"{"email":"a@b.io"}"#)]) == text(400, "Invalid data"))
        #expect(fixture.countByRefid("email", from: 0, to: SandboxFixture.start)
            == json(#"[{"subscount":1,"refid":""}]"#), "push updates leave the e-mail and SMS subscriptions alone")
    }
}
