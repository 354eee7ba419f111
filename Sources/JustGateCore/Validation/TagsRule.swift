/// The `tags` rule: a comma list of simple tag names, tidied into one canonical list.
///
/// Sites build the list by string concatenation, leaving spaces, empty items and repeats; those are
/// harmless and removed. A tag with other characters is refused rather than altered, since upstream
/// would create it as a new segment.
enum TagsRule {
    static let maxTagLength = 64
    static let example = "expected a comma-separated list of tags like 1,2,3 made of letters, digits, _ and -"

    static func normalise(_ raw: String, field: String) -> Result<String, FieldProblems> {
        var tags: [Substring] = []
        var seen: Set<Substring> = []
        var problems: [FieldProblem] = []
        for item in raw.split(separator: ",", omittingEmptySubsequences: false) {
            let tag = UnicodeText.trimmed(item)
            if tag.isEmpty || seen.contains(tag) { continue }
            if tag.utf8.count > maxTagLength {
                problems.append(FieldProblem(field: field, code: ProblemCode.invalidTags,
                    message: "expected tags of at most \(maxTagLength) characters; \(UnicodeText.echo(tag)) is longer"))
            } else if !tag.utf8.allSatisfy(isTagByte) {
                problems.append(FieldProblem(field: field, code: ProblemCode.invalidTags,
                    message: "\(example); got the tag \(UnicodeText.echo(tag))"))
            }
            seen.insert(tag)
            tags.append(tag)
        }
        if tags.isEmpty {
            problems.append(FieldProblem(field: field, code: ProblemCode.empty, message: "\(example); got no tags"))
        }
        guard problems.isEmpty else { return .failure(FieldProblems(problems)) }
        return .success(tags.joined(separator: ","))
    }

    static func isTagByte(_ byte: UInt8) -> Bool {
        EmailSyntax.isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
