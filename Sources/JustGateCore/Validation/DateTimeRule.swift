/// The `start`/`end` rule: the `YYYY-MM-DD HH:MM:SS` UTC text the upstream stats endpoints parse.
///
/// Sites produce ISO 8601 from their own stacks (`2020-08-11T20:38:49.123+03:00`, `…Z`, bare dates);
/// upstream only understands its own form and reads it as UTC, so offsets are applied, fractional
/// seconds dropped (truncated) and bare dates taken as midnight. Impossible dates such as Feb 30 are
/// refused instead of rolling over into March.
enum DateTimeRule {
    static let example = "expected a date-time like 2020-08-11 20:38:49, an ISO 8601 time like 2020-08-11T20:38:49Z, or a date like 2020-08-11"

    static func normalise(_ raw: String, field: String) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        guard let parsed = parse(value) else {
            let code = value.isEmpty ? ProblemCode.empty : ProblemCode.invalidDate
            return .failure(FieldProblems(field: field, code: code, message: "\(example); got \(UnicodeText.echo(value))"))
        }
        guard let seconds = parsed.seconds else {
            return .failure(FieldProblems(field: field, code: ProblemCode.invalidDate,
                message: "expected a real calendar date and time (no Feb 30, Feb 29 only in leap years, hours 00-23); got \(UnicodeText.echo(value))"))
        }
        // Offsets can push a year-0000 or year-9999 value outside four digits.
        let lowest = CivilDate(year: 0, month: 1, day: 1).daysSinceEpoch * 86400
        let highest = CivilDate(year: 9999, month: 12, day: 31).daysSinceEpoch * 86400 + 86399
        guard seconds >= lowest && seconds <= highest else {
            return .failure(FieldProblems(field: field, code: ProblemCode.invalidDate,
                message: "expected a date between years 0000 and 9999 in UTC; got \(UnicodeText.echo(value))"))
        }
        return .success(DateFormatting.dateTime(unixSeconds: seconds))
    }

    /// The fields as written, before range checks.
    struct Parsed {
        var date: CivilDate
        var hour = 0, minute = 0, second = 0
        var offsetMinutes = 0
        var offsetHour = 0, offsetMinute = 0

        /// UTC Unix seconds, or nil if a field is out of range.
        var seconds: Int64? {
            guard date.isValid, hour < 24, minute < 60, second < 60, offsetHour < 24, offsetMinute < 60 else { return nil }
            let local = date.daysSinceEpoch * 86400 + Int64(hour * 3600 + minute * 60 + second)
            return local - Int64(offsetMinutes) * 60
        }
    }

    /// `date [(T|t|space) HH:MM[:SS[.fraction]] [Z|z|±HH:MM|±HHMM]]`.
    static func parse(_ value: Substring) -> Parsed? {
        var cursor = DateTextCursor(value)
        guard let date = cursor.date() else { return nil }
        var parsed = Parsed(date: date)
        if cursor.isAtEnd { return parsed }
        guard cursor.skip(UInt8(ascii: "T")) || cursor.skip(UInt8(ascii: "t")) || cursor.skip(UInt8(ascii: " ")),
            let hour = cursor.digits(2), cursor.skip(UInt8(ascii: ":")), let minute = cursor.digits(2)
        else { return nil }
        parsed.hour = hour
        parsed.minute = minute
        if cursor.skip(UInt8(ascii: ":")) {
            guard let second = cursor.digits(2) else { return nil }
            parsed.second = second
            if cursor.skip(UInt8(ascii: ".")) || cursor.skip(UInt8(ascii: ",")) {
                guard cursor.digits(1) != nil else { return nil }
                while cursor.digits(1) != nil {}
            }
        }
        if cursor.skip(UInt8(ascii: "Z")) || cursor.skip(UInt8(ascii: "z")) {
            return cursor.isAtEnd ? parsed : nil
        }
        if cursor.isAtEnd { return parsed }
        let sign: Int
        if cursor.skip(UInt8(ascii: "+")) {
            sign = 1
        } else if cursor.skip(UInt8(ascii: "-")) {
            sign = -1
        } else {
            return nil
        }
        guard let offsetHour = cursor.digits(2) else { return nil }
        _ = cursor.skip(UInt8(ascii: ":"))
        guard let offsetMinute = cursor.digits(2), cursor.isAtEnd else { return nil }
        parsed.offsetHour = offsetHour
        parsed.offsetMinute = offsetMinute
        parsed.offsetMinutes = sign * (offsetHour * 60 + offsetMinute)
        return parsed
    }
}
