import JustGateSandbox
import Testing

/// `--fail OPERATION=TEXT`: forced errors for sites that want to exercise their error paths.
@Suite("forced failures (--fail)")
struct FailSwitchTests {
    static let juid = SequentialJUIDs.juid(1)

    /// A call of `operation` that succeeds when nothing is forced, on a sandbox where profile 1 is subscribed
    /// by e-mail and SMS.
    static func validCall(of operation: String) -> (method: String, path: String, query: [(String, String)], form: [(String, String)]) {
        let base = "/api/user/v1/"
        switch operation {
        case "profile.create": return ("POST", base + "subscription/create/profile", [], [("name", "Bob")])
        case "subscribe.email": return ("POST", base + "subscription/subscribe/email", [], [("juid", juid), ("email", "new@x.io")])
        case "subscribe.sms": return ("POST", base + "subscription/subscribe/sms", [], [("juid", juid), ("number", "222")])
        case "unsubscribe.email":
            return ("PUT", base + "subscription/unsubscribe/email", [], [("juid", juid), ("email", "email@email.com")])
        case "unsubscribe.sms":
            return ("PUT", base + "subscription/unsubscribe/sms", [], [("juid", juid), ("number", "00000000000")])
        case "utm.update":
            return ("PUT", base + "subscription/update/utm-metric/channel/email", [],
                    [("data", #"{"email":"email@email.com","refid":"ch-new"}"#)])
        case "action.save": return ("POST", base + "action/", [], [("juid", juid), ("tags", "7"), ("label", "login")])
        case "segments.get": return ("GET", base + "info/segment/", [("juid", juid)], [])
        case "stat.count_by_refid":
            return ("GET", base + "stat/get-count-refid/email", [("startDate", "0"), ("endDate", "2000000000")], [])
        default:
            return ("GET", base + "info/stat-by-refid/channel/email",
                    [("start", "2020-01-01 00:00:00"), ("end", "2020-12-31 23:59:59")], [])
        }
    }

    static let everyForcedError: [(operation: String, text: String, status: Int)] = SandboxErrorText.byOperation.flatMap {
        entry in entry.errors.map { (entry.operation, $0.text, $0.status) }
    }

    /// Profile 1 subscribed by e-mail and SMS, as far as the forced errors let it be set up.
    static func prepared(_ failures: SandboxFailures) -> SandboxFixture {
        let fixture = SandboxFixture(failures: failures)
        _ = fixture.send("POST", "/api/user/v1/subscription/create/profile", form: [("name", "Bob")])
        _ = fixture.subscribe("email", juid: juid, address: "email@email.com")
        _ = fixture.subscribe("sms", juid: juid, address: "00000000000")
        return fixture
    }

    /// What a forced call must leave untouched: profile 1's segments and both channels' statistics.
    static func state(of fixture: SandboxFixture) -> [SandboxResponse] {
        [fixture.segments(juid), fixture.countByRefid("email", from: 0, to: SandboxFixture.start),
         fixture.countByRefid("sms", from: 0, to: SandboxFixture.start)]
    }

    /// Each operation's every documented text is answered exactly, with the sandbox's status for it, to a call
    /// that succeeds when nothing is forced, and the call changes nothing.
    @Test(arguments: everyForcedError)
    func forcedErrorIsAnsweredAndChangesNothing(operation: String, text expected: String, status: Int) throws {
        let call = Self.validCall(of: operation)
        let send = { (sandbox: SandboxFixture) in
            sandbox.send(call.method, call.path, query: call.query.map { (name: $0.0, value: $0.1) },
                         form: call.form.map { (name: $0.0, value: $0.1) })
        }
        #expect(send(Self.prepared(SandboxFailures())).status == 200, "the call is valid, so only the switch can fail it")

        let fixture = Self.prepared(try SandboxFailures(parsing: ["\(operation)=\(expected)"]))
        let before = Self.state(of: fixture)
        #expect(send(fixture) == text(status, expected))
        #expect(Self.state(of: fixture) == before)
    }

    @Test func otherOperationsAreUnaffectedAndTextsMatchIgnoringCaseAndSpaces() throws {
        let failures = try SandboxFailures(parsing: [" stat.by_refid = error SERVICE ", "segments.get=JUID not found"])
        let fixture = SandboxFixture(failures: failures)
        let juid = fixture.createProfile()
        #expect(fixture.subscribe("sms", juid: juid, address: "1") == text(200, ""))
        #expect(fixture.segments(juid) == text(400, "JUID not found"))
        #expect(fixture.statByRefid("sms", from: "2020-01-01 00:00:00", to: "2020-12-31 23:59:59")
            == text(503, "Error service"))
        #expect(fixture.countByRefid("sms", from: 0, to: SandboxFixture.start) == json(#"[{"subscount":1,"refid":""}]"#))
        #expect(fixture.send("GET", "/api/user/v1/info/segment/", query: [("juid", juid)], token: "wrong")
            == text(401, "Invalid token"), "the token is still checked first")
    }

    @Test func malformedItemAsksForOperationEqualsText() {
        #expect {
            _ = try SandboxFailures(parsing: ["stat.by_refid"])
        } throws: { error in
            let message = (error as? SandboxFailureSpecError)?.description ?? ""
            return message.contains("OPERATION=TEXT") && message.contains(#"stat.by_refid: "Invalid start or end date""#)
        }
    }

    @Test func unknownOperationListsEveryOperationAndItsTexts() {
        #expect {
            _ = try SandboxFailures(parsing: ["stats.by_refid=Error query"])
        } throws: { error in
            let message = (error as? SandboxFailureSpecError)?.description ?? ""
            let namesAll = SandboxErrorText.byOperation.allSatisfy { entry in
                message.contains("  \(entry.operation): ") && entry.errors.allSatisfy { message.contains("\"\($0.text)\"") }
            }
            return message.contains(#""stats.by_refid" is not an operation id"#) && namesAll
        }
    }

    @Test func textTheOperationDoesNotAnswerIsRefusedWithItsTexts() {
        #expect {
            _ = try SandboxFailures(parsing: ["stat.by_refid=User not found"])
        } throws: { error in
            (error as? SandboxFailureSpecError)?.description == #"--fail stat.by_refid: "User not found" is not a text "#
                + #"stat.by_refid answers; use one of "Invalid start or end date", "Error service", "Error query"."#
        }
        #expect(throws: SandboxFailureSpecError.self) {
            _ = try SandboxFailures(parsing: ["subscribe.email=JuId empty"])
        }
    }

    @Test func anOperationMayBeNamedOnce() {
        #expect(throws: SandboxFailureSpecError.self) {
            _ = try SandboxFailures(parsing: ["utm.update=Invalid data", "utm.update=Unprocessable Entity"])
        }
    }

}
