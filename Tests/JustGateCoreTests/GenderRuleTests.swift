import Testing
@testable import JustGateCore

@Suite struct GenderRuleTests {
    @Test(arguments: [(" Female ", "female"), ("MALE", "male"), ("Ж", "ж"), ("non-binary", "non-binary")])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.gender, raw) == expected)
    }

    @Test(arguments: [
        ("", [ProblemCode.empty]),
        ("fe\nmale", [ProblemCode.controlCharacters]),
        (String(repeating: "x", count: 17), [ProblemCode.tooLong]),
        ("a\u{0}" + String(repeating: "x", count: 20), [ProblemCode.controlCharacters, ProblemCode.tooLong]),
    ])
    func rejects(raw: String, codes: [String]) {
        #expect(problemCodes(.gender, raw) == codes)
    }

    @Test func allowlist() {
        let options = ValidationOptions(now: testNow, allowedGenders: ["male", "female"])
        #expect(accepted(.gender, "Female", options) == "female")
        #expect(problemCodes(.gender, "other", options) == [ProblemCode.genderNotAllowed])
        #expect(problems(.gender, "other", options).first?.message == "expected one of male, female; got \"other\"")
    }
}
