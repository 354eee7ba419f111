import Testing
@testable import JustGateCore

@Suite struct NameRuleTests {
    @Test(arguments: [
        ("  Анна   Петрова ", "Анна Петрова"),
        ("Ivan\tIvanov", "Ivan Ivanov"),
        ("Zoë\u{00A0}\u{3000}Smith", "Zoë Smith"),
        ("Ma\u{0}ria\u{7F}", "Maria"),  // control characters are dropped
        ("Jean\u{2028}Luc", "Jean Luc"),  // a line separator is whitespace
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("李小龍", "李小龍"),
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.name, raw) == expected)
    }

    @Test func composesDecomposedInputToNFC() throws {
        let decomposed = "Андреи\u{0306} Zoe\u{0308}"  // й and ë as base + combining mark
        let result = try #require(accepted(.name, decomposed))
        #expect(Array(result.unicodeScalars) == Array("Андрей Zoë".unicodeScalars))
        #expect(result.unicodeScalars.count == 10)
    }

    @Test func lengthCountsScalarsAfterNormalising() {
        let hundred = String(repeating: "я", count: 100)
        #expect(accepted(.name, hundred) == hundred)
        #expect(problemCodes(.name, hundred + "я") == [ProblemCode.tooLong])
        // 100 decomposed "й" are 200 scalars in, 100 after NFC: accepted.
        let decomposed = String(repeating: "и\u{0306}", count: 100)
        #expect(accepted(.name, decomposed)?.unicodeScalars.count == 100)
    }

    @Test(arguments: ["", "   ", "\u{0}\u{1}\t\n", "\u{00A0}"])
    func rejectsEmpty(raw: String) {
        #expect(problemCodes(.name, raw) == [ProblemCode.empty])
    }
}
