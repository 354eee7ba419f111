/// The `juid` rule: the upstream profile id, 32 hex digits.
///
/// Ids are copied around by hand and by code that prefers UUID syntax, so the dashed 8-4-4-4-12 form and
/// uppercase are accepted and folded into the one spelling upstream looks up.
enum JUIDRule {
    static func normalise(_ raw: String, field: String) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        let utf8 = value.utf8
        let dashed = utf8.count == 36
        guard utf8.count == 32 || dashed else { return failure(value, field: field) }
        // The spelling sites send most, already canonical and untrimmed, is the value itself: no new string.
        var text = raw
        if !dashed && utf8.count == raw.utf8.count && text.withUTF8({ $0.allSatisfy(isLowercaseHex) }) {
            return .success(raw)
        }
        var valid = true
        // Written straight into the string's storage: one allocation, no array first.
        let canonical = String(unsafeUninitializedCapacity: 32) { out in
            var position = 0
            var written = 0
            for byte in utf8 {
                defer { position += 1 }
                if dashed && (position == 8 || position == 13 || position == 18 || position == 23) {
                    if byte != UInt8(ascii: "-") { valid = false; return 0 }
                    continue
                }
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"):
                    out[written] = byte
                case UInt8(ascii: "A")...UInt8(ascii: "F"):
                    out[written] = byte + 0x20
                default:
                    valid = false
                    return 0
                }
                written += 1
            }
            return written
        }
        return valid ? .success(canonical) : failure(value, field: field)
    }

    @inline(__always)
    private static func isLowercaseHex(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
    }

    static func failure(_ value: Substring, field: String) -> Result<String, FieldProblems> {
        let code = value.isEmpty ? ProblemCode.empty : ProblemCode.invalidJUID
        return .failure(FieldProblems(field: field, code: code,
            message: "expected 32 hex digits like de6f0132ea9e412599ae31262c45633b (dashes as in a UUID are allowed); got \(UnicodeText.echo(value))"))
    }
}
