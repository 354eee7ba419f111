@testable import JustGateSandbox
import Testing

@Suite("civil time")
struct CivilTimeTests {
    @Test(arguments: [
        ("2020-08-11 20:38:49", Int64(1_597_178_329)),
        ("1970-01-01 00:00:00", 0),
        ("1969-12-31 23:59:59", -1),
        ("2000-02-29 12:00:00", 951_825_600),
        ("2024-02-29 00:00:00", 1_709_164_800),
        ("0001-01-01 00:00:00", -62_135_596_800),
        ("9999-12-31 23:59:59", 253_402_300_799),
    ])
    func parsesAndFormatsKnownInstants(text: String, seconds: Int64) {
        #expect(CivilTime.unixSeconds(parsing: text) == seconds)
        #expect(CivilTime.dateTimeString(unixSeconds: seconds) == text)
    }

    @Test func everyDayOfFourCenturiesRoundTrips() {
        var expected = (year: Int64(1900), month: 1, day: 1)
        for dayNumber in CivilTime.days(year: 1900, month: 1, day: 1)...CivilTime.days(year: 2300, month: 12, day: 31) {
            let date = CivilTime.date(days: dayNumber)
            #expect(date == expected)
            #expect(CivilTime.days(year: date.year, month: date.month, day: date.day) == dayNumber)
            if date != expected { break }
            expected.day += 1
            if expected.day > CivilTime.daysInMonth(year: expected.year, month: expected.month) {
                expected.day = 1
                expected.month += 1
                if expected.month > 12 {
                    expected.month = 1
                    expected.year += 1
                }
            }
        }
    }

    @Test(arguments: ["1900-02-29 00:00:00", "2023-04-31 00:00:00", "2020-00-10 00:00:00", "2020-01-00 00:00:00",
                      "2020-01-01 00:00:60", "2020-01-01  0:00:00", "", "2020-01-01 00:00:00Z"])
    func rejectsImpossibleOrMalformedDates(text: String) {
        #expect(CivilTime.unixSeconds(parsing: text) == nil)
    }

    @Test func dayStringOfInstantsBeforeTheEpoch() {
        #expect(CivilTime.dateString(unixSeconds: -1) == "1969-12-31")
        #expect(CivilTime.dateString(unixSeconds: -86_400) == "1969-12-31")
        #expect(CivilTime.dateString(unixSeconds: -86_401) == "1969-12-30")
    }
}

@Suite("JSON text")
struct JSONTextTests {
    @Test(arguments: [
        ("plain", #""plain""#),
        ("q\"b\\s/", #""q\"b\\s/""#),
        ("\n\r\t\u{08}\u{0C}\u{01}\u{1F}", #""\n\r\t\b\f\u0001\u001f""#),
        ("кириллица 😀", "\"кириллица 😀\""),
    ])
    func quotesStrings(raw: String, expected: String) {
        #expect(JSONText.quoted(raw) == expected)
    }

    @Test func rendersArraysAndObjects() {
        #expect(JSONText.array(of: []) == "[]")
        #expect(JSONText.array(of: [35, 36]) == "[35,36]")
        #expect(JSONText.object([]) == "{}")
        #expect(JSONText.object([("a\"", "1"), ("b", "[]")]) == #"{"a\"":1,"b":[]}"#)
    }
}

@Suite("flat JSON object reader")
struct FlatJSONObjectReaderTests {
    @Test func readsScalarsNumbersVerbatimAndSkipsNested() {
        let members = FlatJSONObjectReader.members(
            of: #" { "s" : "x\u0041\/", "n": -12.5e+3, "t": true, "f": false, "z": null, "o": {"a":[1,{"b":[]}]}, "a": [] } "#)
        #expect(members?["s"] == .string("xA/"))
        #expect(members?["n"] == .number("-12.5e+3"))
        #expect(members?["t"] == .bool(true))
        #expect(members?["f"] == .bool(false))
        #expect(members?["z"] == .null)
        #expect(members?["o"] == .nested)
        #expect(members?["a"] == .nested)
    }

    @Test func lastDuplicateWinsAndOuterQuotesAreTolerated() {
        let members = FlatJSONObjectReader.members(of: #""{"refid":2,"refid":"x"}""#)
        #expect(members == ["refid": .string("x")])
    }

    @Test func surrogatePairsCombineAndLoneSurrogatesBecomeReplacement() {
        #expect(FlatJSONObjectReader.members(of: #"{"e":"\ud83d\ude00"}"#) == ["e": .string("😀")])
        #expect(FlatJSONObjectReader.members(of: #"{"e":"\ud83dx"}"#) == ["e": .string("\u{FFFD}x")])
        #expect(FlatJSONObjectReader.members(of: #"{"e":"\ude00"}"#) == ["e": .string("\u{FFFD}")])
    }

    @Test(arguments: [
        "", "{", "}", "[]", "\"x\"", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}", "{\"a\":01}", "{\"a\":1.}",
        "{\"a\":-}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"line\nbreak\"}", "{} {}",
        "{\"a\":[1,]}", "\"{\"a\":1}", String(repeating: "{\"a\":", count: 40) + "1" + String(repeating: "}", count: 40),
    ])
    func rejectsMalformedInput(text: String) {
        #expect(FlatJSONObjectReader.members(of: text) == nil)
    }

    @Test func acceptsNestingUpToTheLimit() {
        let text = String(repeating: "{\"a\":", count: 31) + "1" + String(repeating: "}", count: 31)
        #expect(FlatJSONObjectReader.members(of: text) == ["a": .nested])
    }
}

@Suite("routes and field rules")
struct RouteAndFieldRuleTests {
    @Test func routesResolveToTheirOperations() {
        #expect(SandboxRoute(path: "/api/user/v1/subscription/update/utm-metric/channel/push") == .updateUTM(.push))
        #expect(SandboxRoute(path: "/api/user/v1/stat/get-count-refid/sms/") == .countByRefid(.sms))
        #expect(SandboxRoute(path: "/api/user/v1/stat/stat-by-refid/channel/email") == .statByRefid(.email))
        #expect(SandboxRoute(path: "/api/user/v1/info/segments/") == .segments)
        #expect(SandboxRoute(path: "/api/user/v1/subscription/stat/profile") == nil)
    }

    /// `--fail` names operations by these ids, so every route must have one with its texts listed.
    @Test func everyRouteNamesAnOperationWithErrorTexts() {
        let routes: [SandboxRoute] = [.createProfile, .subscribe(.email), .subscribe(.sms), .unsubscribe(.email),
                                      .unsubscribe(.sms), .updateUTM(.push), .saveAction, .segments,
                                      .countByRefid(.sms), .statByRefid(.email)]
        let listed = SandboxErrorText.byOperation.map(\.operation)
        #expect(routes.map(\.operationID) == listed)
        #expect(SandboxRoute.updateUTM(.email).operationID == "utm.update")
    }

    @Test func int64ParsingGuardsOverflow() {
        #expect(SandboxFieldRules.int64("9223372036854775807") == Int64.max)
        #expect(SandboxFieldRules.int64("-9223372036854775808") == Int64.min)
        #expect(SandboxFieldRules.int64("9223372036854775808") == nil)
        #expect(SandboxFieldRules.int64("-") == nil)
        #expect(SandboxFieldRules.int64("+1") == nil)
    }

    @Test func numericTagsIgnoreLabelsAndOverflow() {
        #expect(SandboxAPI.numericTags(in: "1, 2 ,x,99999999999999999999,0") == [1, 2, 0])
    }
}
