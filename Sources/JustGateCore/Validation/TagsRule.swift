/// The `tags` rule: a comma list of simple tag names, tidied into one canonical list.
///
/// Sites build the list by string concatenation, leaving spaces, empty items and repeats; those are
/// harmless and removed. A tag with other characters is refused rather than altered, since upstream
/// would create it as a new segment.
///
/// The list is bounded by what the upstream keeps: it stores `tags` in a 255-character column (the
/// sandbox answers `Error save data` beyond it), so a longer list is refused here with the limit
/// named, not forwarded to fail there. The value as sent is bounded too (`maxInputLength`, checked by
/// `FieldRule.normalise` before this rule runs), so an endless field costs the event loop nothing: the
/// work below is linear in at most that many bytes.
package enum TagsRule {
    package static let maxTagLength = 64
    /// The longest list forwarded, in characters (tags are ASCII, so bytes): the upstream's column width.
    package static let maxListLength = 255
    /// The most tags a list can hold within `maxListLength`: 128 one-character tags and their 127 commas.
    package static let maxTags = (maxListLength + 1) / 2
    /// The longest value accepted as sent, in bytes: room for spaces and repeats around a full list.
    package static let maxInputLength = 1024
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
        let list = tags.joined(separator: ",")
        guard list.utf8.count <= maxListLength else {
            return .failure(FieldProblems([FieldProblem(field: field, code: ProblemCode.tooLong,
                message: "expected at most \(maxListLength) characters of tags once spaces and repeats are removed (the "
                    + "upstream keeps no more); got \(list.utf8.count) in \(tags.count) tags")]))
        }
        return .success(list)
    }

    static func isTagByte(_ byte: UInt8) -> Bool {
        EmailSyntax.isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}
