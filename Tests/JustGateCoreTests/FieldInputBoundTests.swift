import Testing
@testable import JustGateCore

/// Every rule reads at most `maxInputBytes` of a value: a longer one is `too_long` naming the bound, before
/// the rule looks at it (issue 21, item 9; bench/micro `WorstInputs` times what is left).
@Suite struct FieldInputBoundTests {
    @Test(arguments: [
        (FieldRule.name, 1424), (.email, 2040), (.url, 9216), (.utmData, 8192), (.phone, 1024), (.gender, 1088),
        (.text, 2044), (.tags, 1024),
    ])
    func aValueLongerThanTheRuleReadsIsTooLongNamingTheBound(rule: FieldRule, bound: Int) throws {
        #expect(rule.maxInputBytes == bound)
        let over = String(repeating: " ", count: bound + 1)
        let problem = try #require(problems(rule, over).first)
        #expect(problem.code == ProblemCode.tooLong)
        #expect(problem.message.contains("at most \(bound) bytes as sent"))
        #expect(problem.message.contains("got \(bound + 1)"))
        // A megabyte is refused the same way, with one problem.
        #expect(problems(rule, String(repeating: "e\u{301}", count: 1 << 18)).map(\.code) == [ProblemCode.tooLong])
    }

    @Test func surroundingWhitespaceWithinTheBoundIsStillTrimmed() {
        #expect(accepted(.email, String(repeating: " ", count: 1000) + "a@example.com") == "a@example.com")
        #expect(accepted(.name, " Анна " + String(repeating: " ", count: 1000)) == "Анна")
    }
}
