/// The `channel` rule: one of the subscription channels an operation supports (`sms`, `email`, `push`).
///
/// The channel usually arrives in the URL path, where case is whatever the site's code produced; upstream
/// routes on the exact lowercase word.
enum ChannelRule {
    static func normalise(_ raw: String, field: String, allowed: [String]) -> Result<String, FieldProblems> {
        let channel = UnicodeText.trimmed(raw).lowercased()
        if allowed.contains(channel) { return .success(channel) }
        let code = channel.isEmpty ? ProblemCode.empty : ProblemCode.invalidChannel
        return .failure(FieldProblems(field: field, code: code,
            message: "expected one of \(allowed.joined(separator: ", ")); got \(UnicodeText.echo(UnicodeText.trimmed(raw)))"))
    }
}
