/// The `birthDate` rule: Unix seconds of a plausible birth, as upstream stores it.
///
/// Accepts seconds, milliseconds (see ``UnixSeconds``) and `YYYY-MM-DD` (midnight UTC), because sites
/// fill this from date pickers, JavaScript and databases alike. Dates after `options.now` or before
/// 1900-01-01 are refused as typos rather than forwarded as impossible ages.
enum BirthDateRule {
    /// 1900-01-01T00:00:00Z.
    static let earliest: Int64 = -2_208_988_800
    static let example = "expected a birth date as Unix seconds (like 631152000), milliseconds, or YYYY-MM-DD"

    static func normalise(_ raw: String, field: String, options: ValidationOptions) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        guard let seconds = parse(value) else {
            let code = value.isEmpty ? ProblemCode.empty : ProblemCode.invalidDate
            return .failure(FieldProblems(field: field, code: code, message: "\(example); got \(UnicodeText.echo(value))"))
        }
        if seconds > options.now {
            return .failure(FieldProblems(field: field, code: ProblemCode.dateInFuture,
                message: "expected a birth date in the past; \(DateFormatting.dateTime(unixSeconds: seconds)) UTC is after now"))
        }
        if seconds < earliest {
            return .failure(FieldProblems(field: field, code: ProblemCode.dateTooEarly,
                message: "expected a birth date on or after 1900-01-01; got \(DateFormatting.dateTime(unixSeconds: seconds)) UTC"))
        }
        return .success(String(seconds))
    }

    static func parse(_ value: Substring) -> Int64? {
        if value.utf8.count == 10 && value.utf8.dropFirst(4).first == UInt8(ascii: "-") {
            var cursor = DateTextCursor(value)
            guard let date = cursor.date(), cursor.isAtEnd, date.isValid else { return nil }
            return date.daysSinceEpoch * 86400
        }
        return UnixSeconds.parse(value)
    }
}
