import JustGateSandbox
import Testing

@Suite("end-to-end flow")
struct FullFlowTests {
    @Test func profileSubscriptionsActionsSegmentsAndStatistics() {
        let fixture = SandboxFixture()
        let create = fixture.send(
            "POST", "/api/user/v1/subscription/create/profile", form: [("ip", "8.8.8.8"), ("name", "Bob")])
        #expect(create == text(200, "00000000000000000000000000000001"))
        let juid = create.body

        #expect(fixture.subscribe("email", juid: juid, address: "email@email.com", refid: "ch-direct_src-direct_lp-main")
            == text(200, ""))
        fixture.clock.set(1_604_484_000)  // 2020-11-04 10:00:00
        #expect(fixture.subscribe("sms", juid: juid, address: "00000000000", refid: "ch-direct_src-direct_lp-main2")
            == text(200, ""))

        let action = fixture.send("POST", "/api/user/v1/action/", form: [("juid", juid), ("tags", "1,2,3"), ("label", "login")])
        #expect(action == text(200, "Request accepted"))
        #expect(fixture.segments(juid) == json("[1,2,3,35,36]"))

        #expect(fixture.countByRefid("email", from: 1_642_137_171, to: 1_655_183_571) == text(404, "User not found"))
        #expect(fixture.countByRefid("email", from: 1_597_178_329, to: 1_604_484_000)
            == json(#"[{"subscount":1,"refid":"ch-direct_src-direct_lp-main"}]"#))
        #expect(fixture.countByRefid("sms", from: 1_597_178_329, to: 1_604_484_000)
            == json(#"[{"subscount":1,"refid":"ch-direct_src-direct_lp-main2"}]"#))
        #expect(fixture.statByRefid("email", from: "2020-08-11 20:38:49", to: "2020-11-29 00:27:52")
            == json(#"{"2020-08-11":{"ch-direct_src-direct_lp-main":1}}"#))
        #expect(fixture.statByRefid("sms", from: "2020-08-11 20:38:49", to: "2020-11-29 00:27:52")
            == json(#"{"2020-11-04":{"ch-direct_src-direct_lp-main2":1}}"#))

        let utm = fixture.send(
            "PUT", "/api/user/v1/subscription/update/utm-metric/channel/sms",
            form: [("data", #"{"number":"00000000000","refid":"ch-api","refidm":"www"}"#)])
        #expect(utm == text(200, "Metrics updated"))
        #expect(fixture.statByRefid("sms", from: "2020-08-11 20:38:49", to: "2020-11-29 00:27:52")
            == json(#"{"2020-11-04":{"ch-api":1}}"#))

        let unsubscribe = fixture.send(
            "PUT", "/api/user/v1/subscription/unsubscribe/email", form: [("juid", juid), ("email", "email@email.com")])
        #expect(unsubscribe == text(200, ""))
        #expect(fixture.segments(juid) == json("[1,2,3,36]"))
        #expect(fixture.api.receivedRequests().count == 14)
    }

    @Test func concurrentClientsShareOneInstanceSafely() async {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        let api = fixture.api
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    let request = SandboxRequest(
                        method: "POST", path: "/api/user/v1/subscription/subscribe/sms",
                        form: [("juid", juid), ("number", String(index)), ("refid", "r")],
                        token: SandboxFixture.token)
                    _ = api.handle(request)
                }
            }
        }
        #expect(fixture.countByRefid("sms", from: 0, to: SandboxFixture.start) == json(#"[{"subscount":40,"refid":"r"}]"#))
    }
}
