import JustGateSandbox
import Testing

@Suite("stat.count_by_refid and stat.by_refid")
struct StatisticsTests {
    /// Three email subscriptions: two on 2020-08-11 (20:38:49 and 23:59:59) and one on 2020-11-04 10:00:00.
    func populated() -> SandboxFixture {
        let fixture = SandboxFixture()
        _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "a@x.io", refid: "ch-main")
        fixture.clock.set(1_597_190_399)
        _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "b@x.io", refid: "ch-cross")
        fixture.clock.set(1_604_484_000)
        _ = fixture.subscribe("email", juid: fixture.createProfile(), address: "c@x.io", refid: "ch-main")
        _ = fixture.subscribe("sms", juid: fixture.createProfile(), address: "123", refid: "ch-sms")
        return fixture
    }

    @Test func countByRefidCountsTheInclusiveRange() {
        let fixture = populated()
        #expect(
            fixture.countByRefid("email", from: 1_597_178_329, to: 1_604_484_000)
                == json(#"[{"subscount":1,"refid":"ch-cross"},{"subscount":2,"refid":"ch-main"}]"#))
        #expect(
            fixture.countByRefid("email", from: 1_597_178_330, to: 1_604_483_999)
                == json(#"[{"subscount":1,"refid":"ch-cross"}]"#))
        #expect(fixture.countByRefid("sms", from: 0, to: 2_000_000_000) == json(#"[{"subscount":1,"refid":"ch-sms"}]"#))
        #expect(fixture.countByRefid("email", from: 0, to: 1_000) == text(404, "User not found"))
    }

    @Test func statByRefidGroupsByUTCDayAndRefid() {
        let fixture = populated()
        let response = fixture.statByRefid("email", from: "2020-08-11 20:38:49", to: "2020-11-29 00:27:52")
        #expect(response == json(#"{"2020-08-11":{"ch-cross":1,"ch-main":1},"2020-11-04":{"ch-main":1}}"#))
        let headingVariant = fixture.send(
            "GET", "/api/user/v1/stat/stat-by-refid/channel/email/",
            query: [("start", "2020-08-11 20:38:50"), ("end", "2020-11-04 09:59:59")])
        #expect(headingVariant == json(#"{"2020-08-11":{"ch-cross":1}}"#))
        #expect(fixture.statByRefid("sms", from: "2021-01-01 00:00:00", to: "2021-12-31 23:59:59") == json("{}"))
    }

    @Test func deactivatedSubscriptionsStillCountAsRegistrations() {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        _ = fixture.subscribe("sms", juid: juid, address: "5", refid: "r")
        _ = fixture.send("PUT", "/api/user/v1/subscription/unsubscribe/sms", form: [("juid", juid), ("number", "5")])
        #expect(fixture.countByRefid("sms", from: 0, to: SandboxFixture.start) == json(#"[{"subscount":1,"refid":"r"}]"#))
    }

    @Test func statisticsAreSeparatedByProject() {
        let fixture = populated()
        let response = fixture.send(
            "GET", "/api/user/v1/stat/get-count-refid/email",
            query: [("startDate", "0"), ("endDate", "2000000000")], token: SandboxFixture.otherToken)
        #expect(response == text(404, "User not found"))
    }

    @Test(arguments: [
        [("startDate", "1")],
        [("endDate", "1")],
        [("startDate", ""), ("endDate", "1")],
        [("startDate", "1.5"), ("endDate", "2")],
        [("startDate", "2020-08-11"), ("endDate", "2")],
        [("startDate", "10"), ("endDate", "9")],
        [("startDate", "1"), ("endDate", "99999999999999999999")],
    ])
    func invalidUnixRangeIsRejected(query: [(String, String)]) {
        let fixture = SandboxFixture()
        let response = fixture.send(
            "GET", "/api/user/v1/stat/get-count-refid/email", query: query.map { (name: $0.0, value: $0.1) })
        #expect(response == text(400, "Invalid startDate or endDate"))
    }

    @Test(arguments: [
        ("2020-08-11", "2020-08-12 00:00:00"),
        ("2020-08-11T20:38:49", "2020-08-12 00:00:00"),
        ("2021-02-29 00:00:00", "2021-03-01 00:00:00"),
        ("2020-13-01 00:00:00", "2021-03-01 00:00:00"),
        ("2020-01-01 24:00:00", "2021-03-01 00:00:00"),
        ("2020-01-01 00:60:00", "2021-03-01 00:00:00"),
        ("2020-01-01 00:00:00", ""),
        ("2020-01-02 00:00:00", "2020-01-01 23:59:59"),
        ("20a0-01-01 00:00:00", "2021-03-01 00:00:00"),
    ])
    func invalidDateRangeIsRejected(start: String, end: String) {
        let fixture = SandboxFixture()
        #expect(fixture.statByRefid("sms", from: start, to: end) == text(400, "Invalid start or end date"))
    }

    @Test func missingDateParametersAreRejected() {
        let fixture = SandboxFixture()
        let response = fixture.send("GET", "/api/user/v1/info/stat-by-refid/channel/email")
        #expect(response == text(400, "Invalid start or end date"))
    }
}
