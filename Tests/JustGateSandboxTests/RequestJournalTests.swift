import JustGateSandbox
import Testing

@Suite("receivedRequests and reset")
struct RequestJournalTests {
    @Test func everyRequestIsRecordedAsReceivedIncludingRejectedOnes() {
        let fixture = SandboxFixture()
        _ = fixture.send("GET", "/nope", token: nil)
        _ = fixture.send(
            "POST", "/api/user/v1/subscription/subscribe/email",
            form: [("juid", "x"), ("email", "a@b.c"), ("juid", "y")])
        let received = fixture.api.receivedRequests()
        #expect(received.count == 2)
        #expect(received.map(\.method) == ["GET", "POST"])
        #expect(received.map(\.path) == ["/nope", "/api/user/v1/subscription/subscribe/email"])
        #expect(received.map(\.token) == [nil, SandboxFixture.token])
        #expect(received[1].form.map(\.name) == ["juid", "email", "juid"])
        #expect(received[1].form.map(\.value) == ["x", "a@b.c", "y"])
    }

    @Test func onlyTheLast256AreKept() {
        let fixture = SandboxFixture()
        for index in 0..<300 {
            _ = fixture.send("GET", "/api/user/v1/info/segment/", query: [("juid", String(index))])
        }
        let received = fixture.api.receivedRequests()
        #expect(received.count == 256)
        #expect(received.first?.query.first?.value == "44")
        #expect(received.last?.query.first?.value == "299")
    }

    @Test func resetForgetsStateAndRequests() {
        let fixture = SandboxFixture()
        let juid = fixture.createProfile()
        _ = fixture.subscribe("email", juid: juid, address: "a@b.c")
        fixture.api.reset()
        #expect(fixture.api.receivedRequests().isEmpty)
        #expect(fixture.segments(juid) == text(404, "User not found"))
        #expect(fixture.countByRefid("email", from: 0, to: SandboxFixture.start) == text(404, "User not found"))
    }

    @Test func resetKeepsTheCapacity() {
        let fixture = SandboxFixture(profileCapacity: 1)
        _ = fixture.createProfile()
        fixture.api.reset()
        _ = fixture.createProfile()
        #expect(fixture.send("POST", "/api/user/v1/subscription/create/profile") == text(500, "Error save data"))
    }
}
