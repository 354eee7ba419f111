/// Writes ``JSONValue`` as compact JSON, the form justgate forwards upstream.
///
/// Output is deterministic (member order kept, numbers verbatim, no whitespace) so the same input always
/// produces the same bytes, which keeps logs diffable and tests exact.
public enum JSONWriter {
    /// The value as JSON text without insignificant whitespace.
    public static func compact(_ value: JSONValue) -> String {
        var out = ""
        append(value, to: &out)
        return out
    }

    static func append(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let literal): out += literal
        case .string(let text): appendQuoted(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                append(item, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                appendQuoted(member.key, to: &out)
                out += ":"
                append(member.value, to: &out)
            }
            out += "}"
        }
    }

    /// Appends `string` as a JSON string literal, escaped as ``JSONEscaping`` says.
    public static func appendQuoted(_ string: String, to out: inout String) {
        out += "\""
        var text = string
        text.withUTF8 { bytes in
            JSONEscaping.walk(bytes, run: { run in
                // A string with nothing to escape is appended as it is, without re-decoding it.
                if run.count == bytes.count { out += string } else { out += String(decoding: run, as: UTF8.self) }
            }, escape: { byte in
                JSONEscaping.sequence(for: byte) { out.unicodeScalars.append(Unicode.Scalar($0)) }
            })
        }
        out += "\""
    }
}
