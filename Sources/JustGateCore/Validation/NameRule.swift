// Foundation is imported only for Unicode NFC (precomposedStringWithCanonicalMapping); the standard
// library has no public normaliser yet, and names are the one field where decomposed input is common
// (macOS and some keyboards send "и" + U+0306 for "й").
import Foundation

/// The `name` rule: a person's name as a single, tidy, NFC line.
///
/// Forms pad names with spaces and paste them from documents with tabs, NBSPs and invisible controls;
/// upstream matches names textually, so whitespace is collapsed to single spaces, controls are dropped and
/// the text is composed to NFC so "Анна" typed on two systems is the same string.
package enum NameRule {
    package static let maxLength = 100

    static func normalise(_ raw: String, field: String) -> Result<String, FieldProblems> {
        var collapsed = String.UnicodeScalarView()
        var pendingSpace = false
        var needsNFC = false
        for scalar in raw.unicodeScalars {
            if UnicodeText.isWhitespace(scalar) {
                pendingSpace = !collapsed.isEmpty
                continue
            }
            if UnicodeText.isControl(scalar) { continue }
            if pendingSpace {
                collapsed.append(" ")
                pendingSpace = false
            }
            if scalar.value >= 0x300 { needsNFC = true }
            collapsed.append(scalar)
        }
        // Below U+0300 no scalar changes under NFC, so plain Latin names skip Foundation entirely.
        let name = needsNFC ? String(collapsed).precomposedStringWithCanonicalMapping : String(collapsed)
        if name.isEmpty {
            return .failure(FieldProblems(field: field, code: ProblemCode.empty,
                message: "expected a name like Анна Петрова; got nothing but spaces or control characters"))
        }
        let length = name.unicodeScalars.count
        if length > maxLength {
            return .failure(FieldProblems(field: field, code: ProblemCode.tooLong,
                message: "expected a name of at most \(maxLength) characters; got \(length)"))
        }
        return .success(name)
    }
}
