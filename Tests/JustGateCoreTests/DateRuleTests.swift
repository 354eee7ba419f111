import Testing
@testable import JustGateCore

@Suite struct BirthDateRuleTests {
    @Test(arguments: [
        ("631152000", "631152000"),  // 1990-01-01
        ("0", "0"),
        ("-86400", "-86400"),  // 1969-12-31
        ("631152000000", "631152000"),  // JavaScript milliseconds, 12 digits
        ("631152000999", "631152000"),
        ("-2208988800", "-2208988800"),  // 1900-01-01, the earliest accepted
        ("-2208988800000", "-2208988800"),
    ])
    func acceptsSecondsAndMilliseconds(raw: String, expected: String) {
        #expect(accepted(.birthDate, raw) == expected)
    }

    @Test func millisecondsFloorForNegativeValues() {
        #expect(accepted(.birthDate, "-123456789012") == "-123456790")
        #expect(accepted(.birthDate, "-123456789000") == "-123456789")
        #expect(accepted(.unixTimestamp, "-100000000001") == "-100000001")
    }

    @Test(arguments: [
        ("1990-01-01", "631152000"),
        ("1970-01-01", "0"),
        ("1900-01-01", "-2208988800"),
        ("2024-02-29", "1709164800"),  // leap day
        ("2000-02-29", "951782400"),  // 2000 is a leap year
        ("1969-12-31", "-86400"),
    ])
    func acceptsISODates(raw: String, expected: String) {
        #expect(accepted(.birthDate, raw) == expected)
    }

    @Test(arguments: [
        ("2023-02-29", ProblemCode.invalidDate),
        ("1900-02-29", ProblemCode.invalidDate),  // 1900 is not a leap year
        ("2024-13-01", ProblemCode.invalidDate),
        ("2024-04-31", ProblemCode.invalidDate),
        ("1990-1-1", ProblemCode.invalidDate),
        ("631152000.5", ProblemCode.invalidDate),
        ("6.3e8", ProblemCode.invalidDate),
        ("+631152000", ProblemCode.invalidDate),
        ("abc", ProblemCode.invalidDate),
        ("99999999999999999999", ProblemCode.invalidDate),
        ("", ProblemCode.empty),
        ("1899-12-31", ProblemCode.dateTooEarly),
        ("-2208988801", ProblemCode.dateTooEarly),
        ("2026-01-02", ProblemCode.dateInFuture),
        ("1767225601", ProblemCode.dateInFuture),
        ("1767225601000", ProblemCode.dateInFuture),
    ])
    func rejects(raw: String, code: String) {
        #expect(problemCodes(.birthDate, raw) == [code])
    }

    @Test func nowIsInjected() {
        #expect(accepted(.birthDate, "1767225600") == "1767225600")
        #expect(accepted(.birthDate, "1767225600", ValidationOptions(now: 0)) == nil)
    }
}

@Suite struct TimestampRuleTests {
    @Test(arguments: [
        ("1642137171", "1642137171"),  // the reference's startDate
        ("1655183571", "1655183571"),  // and endDate
        ("1642137171000", "1642137171"),
        (" 1642137171123 ", "1642137171"),
        ("00042", "42"),
        ("-5", "-5"),
        ("99999999999", "99999999999"),  // below 10^11: seconds
        ("99999999999999", "99999999999"),  // largest milliseconds whose seconds stay below 10^11
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.unixTimestamp, raw) == expected)
    }

    @Test(arguments: ["", "1.5", "1e9", "now", "2022-01-14", "100000000000000", "--1", "-", "0x10"])
    func rejects(raw: String) {
        #expect(!problemCodes(.unixTimestamp, raw).isEmpty)
        #expect(accepted(.unixTimestamp, raw) == nil)
    }
}

@Suite struct DateTimeRuleTests {
    @Test(arguments: [
        ("2020-08-11 20:38:49", "2020-08-11 20:38:49"),  // the reference's start
        ("2020-11-29 00:27:52", "2020-11-29 00:27:52"),
        ("2020-08-11T20:38:49Z", "2020-08-11 20:38:49"),
        ("2020-08-11t20:38:49z", "2020-08-11 20:38:49"),
        ("2020-08-11T20:38:49.987654Z", "2020-08-11 20:38:49"),
        ("2020-08-11T20:38:49+03:00", "2020-08-11 17:38:49"),
        ("2020-08-11T20:38:49+0300", "2020-08-11 17:38:49"),
        ("2020-08-11T01:00:00-05:30", "2020-08-11 06:30:00"),
        ("2020-12-31T23:30:00-01:00", "2021-01-01 00:30:00"),
        ("2021-03-01T00:30:00+01:00", "2021-02-28 23:30:00"),
        ("2024-03-01T00:30:00+01:00", "2024-02-29 23:30:00"),
        ("2020-08-11", "2020-08-11 00:00:00"),
        ("2020-08-11T20:38", "2020-08-11 20:38:00"),
        ("1969-12-31 23:59:59", "1969-12-31 23:59:59"),
        ("2000-02-29 12:00:00", "2000-02-29 12:00:00"),
    ])
    func accepts(raw: String, expected: String) {
        #expect(accepted(.dateTime, raw) == expected)
    }

    @Test(arguments: [
        "2023-02-29", "1900-02-29 00:00:00", "2020-02-30 10:00:00", "2020-08-11 24:00:00", "2020-08-11 20:60:00",
        "2020-08-11 20:38:60", "2020-08-11T20:38:49+24:00", "2020-08-11T20:38:49 +03:00", "2020-08-11T20:38:49.Z",
        "11.08.2020", "2020-08-11 20:38:49 extra", "1642137171", "", "0000-01-01T00:00:00+01:00",
    ])
    func rejects(raw: String) {
        #expect(accepted(.dateTime, raw) == nil)
        #expect(!problemCodes(.dateTime, raw).isEmpty)
    }

    @Test func calendarRoundTripsEveryDayOfFourCenturies() {
        var days = CivilDate(year: 1800, month: 1, day: 1).daysSinceEpoch
        let end = CivilDate(year: 2200, month: 12, day: 31).daysSinceEpoch
        var expected = CivilDate(year: 1800, month: 1, day: 1)
        while days <= end {
            #expect(CivilDate(daysSinceEpoch: days) == expected)
            expected.day += 1
            if expected.day > CivilDate.daysInMonth(year: expected.year, month: expected.month) {
                expected.day = 1
                expected.month += 1
                if expected.month > 12 {
                    expected.month = 1
                    expected.year += 1
                }
            }
            days += 1
        }
    }
}

@Suite struct FieldRangeTests {
    @Test func reportsReversedRanges() {
        #expect(FieldRange.problem(startField: "startDate", start: "1642137171", endField: "endDate", end: "1655183571") == nil)
        #expect(FieldRange.problem(startField: "startDate", start: "9", endField: "endDate", end: "10") == nil)
        #expect(FieldRange.problem(startField: "startDate", start: "1655183571", endField: "endDate", end: "1642137171")?.code
            == ProblemCode.reversedRange)
        #expect(FieldRange.problem(startField: "start", start: "2020-11-29 00:27:52", endField: "end", end: "2020-08-11 20:38:49")?.field
            == "start")
    }
}
