/// The `gender` rule: a short lowercase word, optionally limited to a site's own vocabulary.
///
/// Upstream stores gender as free text; lowercasing stops `Male` and `male` becoming two segments, and
/// the optional allowlist lets a site pin the values its reports understand.
package enum GenderRule {
    package static let maxLength = 16

    static func normalise(_ raw: String, field: String, options: ValidationOptions) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        if value.isEmpty {
            return .failure(FieldProblems(field: field, code: ProblemCode.empty, message: "expected a gender like female; got an empty value"))
        }
        var problems: [FieldProblem] = []
        if UnicodeText.containsControl(value) {
            problems.append(FieldProblem(field: field, code: ProblemCode.controlCharacters,
                message: "expected a gender without control characters; got \(UnicodeText.echo(value))"))
        }
        let gender = value.lowercased()
        let length = gender.unicodeScalars.count
        if length > maxLength {
            problems.append(FieldProblem(field: field, code: ProblemCode.tooLong,
                message: "expected a gender of at most \(maxLength) characters; got \(length)"))
        }
        if problems.isEmpty, let allowed = options.allowedGenders, !allowed.contains(gender) {
            problems.append(FieldProblem(field: field, code: ProblemCode.genderNotAllowed,
                message: "expected one of \(allowed.joined(separator: ", ")); got \(UnicodeText.echo(gender))"))
        }
        guard problems.isEmpty else { return .failure(FieldProblems(problems)) }
        return .success(gender)
    }
}
