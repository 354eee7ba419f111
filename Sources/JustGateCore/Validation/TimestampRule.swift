/// The `startDate`/`endDate` rule: integer Unix seconds for the stats endpoints.
///
/// Milliseconds are folded to seconds (see ``UnixSeconds``) because upstream silently returns an empty
/// range for a millisecond value, which looks like "no data" rather than a mistake.
enum TimestampRule {
    static func normalise(_ raw: String, field: String) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        guard let seconds = UnixSeconds.parse(value) else {
            let code = value.isEmpty ? ProblemCode.empty : ProblemCode.invalidDate
            return .failure(FieldProblems(field: field, code: code,
                message: "expected whole Unix seconds like 1642137171 (milliseconds are accepted); got \(UnicodeText.echo(value))"))
        }
        return .success(String(seconds))
    }
}
