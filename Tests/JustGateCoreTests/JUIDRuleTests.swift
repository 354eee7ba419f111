import Testing
@testable import JustGateCore

@Suite struct JUIDRuleTests {
    @Test(arguments: [
        ("de6f0132ea9e412599ae31262c45633b", "de6f0132ea9e412599ae31262c45633b"),
        ("DE6F0132EA9E412599AE31262C45633B", "de6f0132ea9e412599ae31262c45633b"),
        ("de6f0132-ea9e-4125-99ae-31262c45633b", "de6f0132ea9e412599ae31262c45633b"),
        ("  DE6F0132-EA9E-4125-99AE-31262C45633B\n", "de6f0132ea9e412599ae31262c45633b"),
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.juid, raw) == expected)
    }

    /// A canonical id is passed on as the very string sent (no copy); trimmed, dashed or upper-case ones are
    /// rewritten, and a dash out of place in a 36-byte value is refused, not skipped.
    @Test func canonicalIdIsTheValueSentAndOthersAreRewritten() {
        #expect(JUIDRule.normalise("0123456789abcdef0123456789abcdef", field: "juid") == .success("0123456789abcdef0123456789abcdef"))
        #expect(JUIDRule.normalise(" 0123456789abcdef0123456789abcdef", field: "juid") == .success("0123456789abcdef0123456789abcdef"))
        #expect(JUIDRule.normalise("0123456789ABCDEF0123456789abcdef", field: "juid") == .success("0123456789abcdef0123456789abcdef"))
        #expect(JUIDRule.normalise("01234567-89ab-cdef-0123-456789abcdef", field: "juid") == .success("0123456789abcdef0123456789abcdef"))
        #expect(problemCodes(.juid, "01234567-89ab-cdef-0123x456789abcdef") == [ProblemCode.invalidJUID])
        #expect(problemCodes(.juid, "01234567-89ab-cdef-0123-456789abcdeg") == [ProblemCode.invalidJUID])
    }

    @Test(arguments: [
        ("", ProblemCode.empty),
        ("de6f0132ea9e412599ae31262c45633", ProblemCode.invalidJUID),
        ("de6f0132ea9e412599ae31262c45633bb", ProblemCode.invalidJUID),
        ("de6f0132ea9e412599ae31262c45633g", ProblemCode.invalidJUID),
        ("cLH6gah9CVp1j9kNoGrvl0i1rzLXSWDS", ProblemCode.invalidJUID),  // appears in the reference's Go sample
        ("de6f0132ea9e-4125-99ae-31262c45633b", ProblemCode.invalidJUID),
        ("de6f013-2ea9e-4125-99ae-31262c45633b", ProblemCode.invalidJUID),
        ("{de6f0132-ea9e-4125-99ae-31262c45633b}", ProblemCode.invalidJUID),
        ("de6f0132_ea9e_4125_99ae_31262c45633b", ProblemCode.invalidJUID),
        ("ｄe6f0132ea9e412599ae31262c45633", ProblemCode.invalidJUID),
    ])
    func rejects(raw: String, code: String) {
        #expect(problemCodes(.juid, raw) == [code])
    }
}
