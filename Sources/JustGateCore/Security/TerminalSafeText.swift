/// Text from a file justgate did not write itself (an audit record, a config value), made safe to print to a
/// terminal.
///
/// Why: the CLI prints record fields and config text to a terminal. An audit file may be foreign or tampered
/// with, and a record may carry what a site sent; an ESC there starts an escape sequence that can rewrite the
/// screen, retitle the window or hide lines, a BEL rings, and a CR or LF forges a line that looks like the
/// tool's own output. Every human-readable output of the CLI passes such text through `escaped`, so the
/// characters show as visible escapes instead of acting. One function, so every command escapes alike.
///
/// What is escaped: the C0 controls (U+0000–U+001F), DEL (U+007F), the C1 controls (U+0080–U+009F, which some
/// terminals act on as 8-bit escape sequences), and the Unicode characters that reorder or split text on
/// display (bidirectional embeddings, overrides and isolates; the line and paragraph separators). A backslash
/// is left as it is: a record holding the four characters `\x1B` prints like an escaped ESC, which misleads a
/// reader at worst but never drives the terminal.
public enum TerminalSafeText {
    /// `text` with every character that could act on a terminal replaced by a visible escape: `\n`, `\r`,
    /// `\t` for the common three, `\x1B` for other C0 controls and DEL, `\u{85}` for C1 controls and the
    /// reordering characters. Returns `text` itself (no copy) when nothing needs escaping, the usual case.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscaping) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            guard needsEscaping(scalar) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += scalar.value <= 0x7F
                    ? "\\x" + (hex.count < 2 ? "0" + hex : hex)
                    : "\\u{" + hex + "}"
            }
        }
        return out
    }

    /// Whether `scalar` can act on a terminal or reorder what is shown around it.
    public static func needsEscaping(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        // Line and paragraph separators; bidirectional embeddings and overrides; bidirectional isolates.
        case 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
