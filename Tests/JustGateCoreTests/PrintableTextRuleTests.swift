import Testing
@testable import JustGateCore

@Suite struct PrintableTextRuleTests {
    @Test func label() {
        #expect(accepted(.label, " login ") == "login")
        #expect(accepted(.label, String(repeating: "ы", count: 64))?.count == 64)
        #expect(problemCodes(.label, String(repeating: "ы", count: 65)) == [ProblemCode.tooLong])
        #expect(problemCodes(.label, "  ") == [ProblemCode.empty])
        #expect(problemCodes(.label, "log\nin") == [ProblemCode.controlCharacters])
        #expect(problemCodes(.label, "log\u{2028}in") == [ProblemCode.controlCharacters])
        #expect(problemCodes(.label, "a\u{85}b") == [ProblemCode.controlCharacters])
    }

    @Test func article() {
        #expect(accepted(.article, "  How to: «quotes» & emoji 🎉 ") == "How to: «quotes» & emoji 🎉")
        #expect(accepted(.article, "") == "")
        #expect(accepted(.article, String(repeating: "a", count: 255)) != nil)
        #expect(problemCodes(.article, String(repeating: "a", count: 256)) == [ProblemCode.tooLong])
        #expect(problemCodes(.article, "tab\there") == [ProblemCode.controlCharacters])
    }

    @Test(arguments: [
        ("ch-api_src", "ch-api_src"),
        ("  www  ", "www"),
        ("2", "2"),
        ("wwwtttoedhtiuyuburoncoreg11893200170333w0722", "wwwtttoedhtiuyuburoncoreg11893200170333w0722"),
        ("Кампания весна", "Кампания весна"),
    ])
    func textAccepts(raw: String, expected: String) {
        #expect(accepted(.text, raw) == expected)
    }

    @Test(arguments: [
        ("", [ProblemCode.empty]),
        ("a\u{0}b", [ProblemCode.controlCharacters]),
        (String(repeating: "x", count: 256), [ProblemCode.tooLong]),
        (String(repeating: "x", count: 256) + "\u{7}", [ProblemCode.tooLong, ProblemCode.controlCharacters]),
    ])
    func textRejects(raw: String, codes: [String]) {
        #expect(problemCodes(.text, raw) == codes)
    }
}
