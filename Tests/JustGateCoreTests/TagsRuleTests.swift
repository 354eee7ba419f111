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

    /// The caps of issue 21, item 9: the tidied list fits the upstream's 255-character column, the value as sent
    /// is at most 1024 bytes, and a refusal names the limit.
    @Test func aListLongerThanTheUpstreamKeepsIsRefusedNamingTheLimit() throws {
        let fits = String(repeating: "a", count: 64) + "," + String(repeating: "b", count: 64) + ","
            + String(repeating: "c", count: 64) + "," + String(repeating: "d", count: 60)
        #expect(fits.utf8.count == 255)
        #expect(accepted(.tags, fits) == fits)
        // Spaces and repeats do not count: they are removed before the list is measured.
        #expect(accepted(.tags, " " + fits + " , ,\(fits)") == fits)
        let over = fits + "d"
        #expect(problemCodes(.tags, over) == [ProblemCode.tooLong])
        let message = try #require(problems(.tags, over).first?.message)
        #expect(message.contains("at most 255 characters") && message.contains("got 256"))
    }

    @Test func aValueLongerThan1024BytesAsSentIsRefusedBeforeItIsRead() throws {
        let padded = String(repeating: " ", count: 1020) + "1,2,3"
        #expect(problemCodes(.tags, padded) == [ProblemCode.tooLong])
        let message = try #require(problems(.tags, padded).first?.message)
        #expect(message.contains("at most 1024 bytes") && message.contains("got 1025"))
        #expect(accepted(.tags, String(repeating: " ", count: 1019) + "1,2,3") == "1,2,3")
        // A megabyte of tags is refused the same way, with one problem.
        #expect(problemCodes(.tags, String(repeating: "a,", count: 1 << 19)) == [ProblemCode.tooLong])
    }
}
