/// The one-line text rules: `label`, `article` and `text` (refid, refidm, utmSource, utmMedium, utmCampaign).
///
/// These values are opaque to justgate but end up in upstream logs, reports and HTTP headers, so they
/// must be a single printable line of bounded length; beyond trimming they are forwarded untouched.
package struct PrintableTextRule {
    package var minLength: Int
    package var maxLength: Int
    var what: String

    package static let label = PrintableTextRule(minLength: 1, maxLength: 64, what: "a label like login")
    package static let article = PrintableTextRule(minLength: 0, maxLength: 255, what: "an article name")
    package static let text = PrintableTextRule(minLength: 1, maxLength: 255, what: "a text value like ch-api_src")

    func normalise(_ raw: String, field: String) -> Result<String, FieldProblems> {
        normalise(Substring(raw), field: field)
    }

    func normalise(_ raw: Substring, field: String) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        var problems: [FieldProblem] = []
        let length = UnicodeText.scalarCount(value)
        if length < minLength {
            problems.append(FieldProblem(field: field, code: ProblemCode.empty, message: "expected \(what); got an empty value"))
        }
        if length > maxLength {
            problems.append(FieldProblem(field: field, code: ProblemCode.tooLong,
                message: "expected \(what) of at most \(maxLength) characters; got \(length)"))
        }
        if UnicodeText.containsControl(value) {
            problems.append(FieldProblem(field: field, code: ProblemCode.controlCharacters,
                message: "expected \(what) on one line without control characters; got \(UnicodeText.echo(value))"))
        }
        guard problems.isEmpty else { return .failure(FieldProblems(problems)) }
        return .success(String(value))
    }
}
