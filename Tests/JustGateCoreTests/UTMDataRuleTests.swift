import Testing
@testable import JustGateCore

@Suite struct UTMDataRuleTests {
    @Test func referenceSampleWithUnescapedOuterQuotes() {
        let raw = #""{"email":"123@123.com","refid":2,"number":99988800066,"refid":"ch-api_src","refidm":"www"}""#
        #expect(accepted(.utmData, raw)
            == #"{"email":"123@123.com","refid":"ch-api_src","number":"99988800066","refidm":"www"}"#)
    }

    @Test(arguments: [
        (#"{"email":" A@B.COM ","refid":2}"#, #"{"email":"a@b.com","refid":"2"}"#),
        (#"  { "number" : "+7 912 345-67-89" , "refid" : "a" }  "#, #"{"number":"79123456789","refid":"a"}"#),
        (#"{}"#, #"{}"#),
        (#""{\"refid\":\"a\"}""#, #"{"refid":"a"}"#),  // a properly escaped JSON string holding an object
        (#"{"refidm":"x","refid":"y","refidm":"z"}"#, #"{"refidm":"z","refid":"y"}"#),  // last value, first position
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.utmData, raw) == expected)
    }

    @Test func innerRulesUseSiteOptions() {
        #expect(accepted(.utmData, #"{"number":"8 912 345 67 89"}"#, russianSiteOptions) == #"{"number":"79123456789"}"#)
    }

    @Test(arguments: [
        ("", [ProblemCode.empty]),
        ("not json", [ProblemCode.invalidJSON]),
        (#"{"email":"a@b.com",}"#, [ProblemCode.invalidJSON]),
        (#"["email"]"#, [ProblemCode.notAnObject]),
        (#""just a string""#, [ProblemCode.notAnObject]),
        (#""{"a":1}"#, [ProblemCode.invalidJSON]),
    ])
    func rejects(raw: String, codes: [String]) {
        #expect(problemCodes(.utmData, raw) == codes)
    }

    @Test func reportsEveryBadInnerFieldByPath() {
        let found = problems(.utmData, #"{"email":"nope","number":"00000000000","refid":"","refidm":true,"other":1}"#, field: "data")
        #expect(found.map(\.field) == ["data.email", "data.number", "data.refid", "data.refidm", "data.other"])
        #expect(found.map(\.code) == [
            ProblemCode.invalidEmail, ProblemCode.invalidPhone, ProblemCode.empty, ProblemCode.invalidText, ProblemCode.unknownField,
        ])
    }

    static var droppingUnknown: ValidationOptions {
        var options = plainOptions
        options.unknownFields = .drop
        return options
    }

    @Test func undocumentedMembersFollowTheUnknownFieldsPolicy() {
        let raw = #"{"email":"a@b.co","other":[1,{"x":null}],"nested":[[1]]}"#
        #expect(problems(.utmData, raw, field: "data").map(\.field) == ["data.other", "data.nested"])
        #expect(problemCodes(.utmData, raw) == [ProblemCode.unknownField, ProblemCode.unknownField])
        #expect(accepted(.utmData, raw, Self.droppingUnknown) == #"{"email":"a@b.co"}"#)
    }

    @Test(arguments: [#"{"email":"a@b.co","EMAIL":"x@y.co"}"#, #"{"Refid":"x"}"#, #"{"NUMBER":1}"#])
    func caseVariantsOfDocumentedMembersAreRefusedWhateverThePolicy(raw: String) {
        #expect(problemCodes(.utmData, raw) == [ProblemCode.unknownField])
        #expect(accepted(.utmData, raw, Self.droppingUnknown) == nil)
    }

    @Test(arguments: [
        #"{"email":"a@b.co","x\u0001":"1"}"#, #"{"ref\u202eid":"1"}"#, #"{"\ufeffemail":"a@b.co"}"#,
        #"{"refid":"ab\u202ecd"}"#, #"{"refidm":"\ufeffab"}"#, #"{"refid":"a\u2066b"}"#, #"{"email":"a\u202e@b.co"}"#,
    ])
    func controlAndBidiCharactersInNamesOrValuesAreRefusedWhateverThePolicy(raw: String) {
        #expect(problemCodes(.utmData, raw) == [ProblemCode.controlCharacters])
        #expect(accepted(.utmData, raw, Self.droppingUnknown) == nil)
    }

    @Test func parseErrorsGiveTheOffset() {
        #expect(problems(.utmData, #"{"a":tru}"#).first?.message.contains("at byte 5") == true)
    }
}
