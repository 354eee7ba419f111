import Testing
@testable import JustGateCore

@Suite struct TagsRuleTests {
    @Test(arguments: [
        ("1,2,3", "1,2,3"),  // the reference's sample
        (" a , b ,, c ,", "a,b,c"),
        ("x,y,x,Y,y", "x,y,Y"),  // de-duplicated, first occurrence kept, case-sensitive
        ("snake_case,kebab-case", "snake_case,kebab-case"),
        (String(repeating: "t", count: 64), String(repeating: "t", count: 64)),
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.tags, raw) == expected)
    }

    @Test(arguments: [
        ("", [ProblemCode.empty]),
        (" , ,", [ProblemCode.empty]),
        ("a,b c", [ProblemCode.invalidTags]),
        ("a,тег", [ProblemCode.invalidTags]),
        ("a;b", [ProblemCode.invalidTags]),
        (String(repeating: "t", count: 65), [ProblemCode.invalidTags]),
        ("ok,b@d,w!rd", [ProblemCode.invalidTags, ProblemCode.invalidTags]),
    ])
    func rejects(raw: String, codes: [String]) {
        #expect(problemCodes(.tags, raw) == codes)
    }
}
