import Testing
@testable import JustGateCore

@Suite struct ChannelRuleTests {
    static let rule = FieldRule.channel(["sms", "email", "push"])

    @Test(arguments: [("sms", "sms"), ("EMAIL", "email"), (" Push ", "push")])
    func accepts(raw: String, expected: String) {
        #expect(accepted(Self.rule, raw) == expected)
    }

    @Test(arguments: [("fax", ProblemCode.invalidChannel), ("", ProblemCode.empty), ("sms,email", ProblemCode.invalidChannel), ("smS\u{0}", ProblemCode.invalidChannel)])
    func rejects(raw: String, code: String) {
        #expect(problemCodes(Self.rule, raw) == [code])
    }

    @Test func messageListsTheChoices() {
        #expect(problems(Self.rule, "fax").first?.message == "expected one of sms, email, push; got \"fax\"")
    }
}
