import JustGateCore

/// Writes a ``YAMLTree`` as block-style YAML, one spelling per value.
///
/// The output is read by people (in review diffs) and by every YAML 1.1 and 1.2 parser, so the
/// emitter is conservative: a string is left unquoted only when it cannot be mistaken for a number,
/// a boolean, a null or YAML syntax in either version; otherwise it is single-quoted, or
/// double-quoted with escapes when it holds characters single quotes cannot carry. Multi-line text
/// becomes a literal block (`|-`) so Markdown descriptions stay readable.
enum YAMLEmitter {
    /// The whole document, ending in a newline. A scalar root is written as a one-line document.
    static func document(_ root: YAMLTree) -> String {
        var out = ""
        switch root {
        case .mapping(let entries) where !entries.isEmpty:
            writeMapping(entries, indent: 0, into: &out)
        case .sequence(let items) where !items.isEmpty:
            writeSequence(items, indent: 0, into: &out)
        default:
            writeInline(root, indent: 0, into: &out)
        }
        return out
    }

    // MARK: - Collections

    private static func writeMapping(_ entries: [(key: String, value: YAMLTree)], indent: Int, into out: inout String) {
        for (key, value) in entries {
            out += String(repeating: " ", count: indent)
            out += quoted(key)  // never a literal block: a key stays on one line
            out += ":"
            switch value {
            case .mapping(let inner) where !inner.isEmpty:
                out += "\n"
                writeMapping(inner, indent: indent + 2, into: &out)
            case .sequence(let items) where !items.isEmpty:
                out += "\n"
                writeSequence(items, indent: indent + 2, into: &out)
            default:
                out += " "
                writeInline(value, indent: indent + 2, into: &out)
            }
        }
    }

    /// Items as `- value`; a collection item is written one level deeper with its first line's
    /// indentation replaced by the dash, the usual compact form (`- name: x` / `  in: query`).
    private static func writeSequence(_ items: [YAMLTree], indent: Int, into out: inout String) {
        let dash = String(repeating: " ", count: indent) + "- "
        for item in items {
            var nested = ""
            switch item {
            case .mapping(let inner) where !inner.isEmpty:
                writeMapping(inner, indent: indent + 2, into: &nested)
            case .sequence(let inner) where !inner.isEmpty:
                writeSequence(inner, indent: indent + 2, into: &nested)
            default:
                out += dash
                writeInline(item, indent: indent + 2, into: &out)
                continue
            }
            out += dash
            out += nested.dropFirst(indent + 2)
        }
    }

    /// A scalar or an empty collection after `key: ` or `- `, with its newline.
    private static func writeInline(_ value: YAMLTree, indent: Int, into out: inout String) {
        switch value {
        case .string(let text):
            if let block = literalBlock(text, indent: indent) {
                out += block
            } else {
                out += quoted(text)
                out += "\n"
            }
        case .integer(let number):
            out += String(number)
            out += "\n"
        case .bool(let flag):
            out += flag ? "true\n" : "false\n"
        case .mapping:
            out += "{}\n"
        case .sequence:
            out += "[]\n"
        }
    }

    // MARK: - Scalars

    /// `text` as a one-line YAML scalar: plain when unambiguous, else single- or double-quoted.
    static func quoted(_ text: String) -> String {
        if isPlainSafe(text) { return text }
        if text.unicodeScalars.allSatisfy(isSingleQuotable) {
            return "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
        }
        return doubleQuoted(text)
    }

    /// `|-` followed by the lines, for multi-line text whose every line a literal block can hold as is.
    private static func literalBlock(_ text: String, indent: Int) -> String? {
        guard text.contains("\n"), !text.hasSuffix("\n"), !text.hasPrefix(" "), !text.hasPrefix("\n"),
            text.unicodeScalars.allSatisfy({ $0 == "\n" || isSingleQuotable($0) })
        else { return nil }
        let margin = String(repeating: " ", count: indent)
        var out = "|-\n"
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            out += line.isEmpty ? "\n" : margin + line + "\n"
        }
        return out
    }

    /// Words a YAML 1.1 parser would read as a boolean or null if left unquoted.
    private static let reservedWords: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"]

    /// Whether `text` can be written without quotes and read back as the same string by YAML 1.1 and
    /// 1.2 parsers: it starts with a letter, `/`, `$`, `_` or `(` (never a digit, sign, dot or YAML
    /// indicator, so it cannot read as a number, date or syntax), holds only printable characters,
    /// has no `: ` or ` #`, does not end in `:` or a space, and is not a boolean or null word.
    static func isPlainSafe(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return false }
        let startsWell = first.value >= 0x80 || isASCIILetter(first) || first == "/" || first == "$" || first == "_"
            || first == "("
        guard startsWell, last != " ", last != ":", text.unicodeScalars.allSatisfy(isSingleQuotable) else { return false }
        guard !text.contains(": "), !text.contains(" #") else { return false }
        return !reservedWords.contains(text.lowercased())
    }

    private static func isASCIILetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    /// Printable characters, which single quotes carry verbatim (YAML has no escapes inside them).
    private static func isSingleQuotable(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x20 || value == 0x7F || (value >= 0x80 && value <= 0x9F) { return false }
        return value != 0x2028 && value != 0x2029 && value != 0xFEFF
    }

    /// Double quotes with `\"`, `\\`, the short escapes and `\uXXXX` / `\UXXXXXXXX` for the rest.
    private static func doubleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if isSingleQuotable(scalar) {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += scalar.value > 0xFFFF ? "\\U" + hex(scalar.value, width: 8) : "\\u" + hex(scalar.value, width: 4)
                }
            }
        }
        return out + "\""
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
