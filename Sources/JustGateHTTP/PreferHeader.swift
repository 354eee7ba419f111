/// The preference names a request's `Prefer` headers carry (RFC 7240 §2):
/// `Prefer: preference *( "," preference )`, `preference = token [ "=" word ] *( ";" parameter )`, names
/// case-insensitive, the header possibly sent several times.
///
/// Why a parser and not `contains("respond-async")`: a substring test would take `respond-asyncly`, a
/// parameter value (`wait=1; note="respond-async"`) or a quoted word as the preference, and a deferral the
/// site did not ask for answers 202 where it expected the upstream's answer.
public enum PreferHeader {
    /// Whether one of `values` (every `Prefer` header of the request) names `respond-async`.
    public static func asksRespondAsync(_ values: [String]) -> Bool {
        values.contains { names(in: $0).contains("respond-async") }
    }

    /// The preference names in one header value, lowercased, in order. Text that is not a token where a name
    /// belongs is skipped up to the next comma outside a quoted string (a server ignores what it cannot read).
    public static func names(in value: String) -> [String] {
        var names: [String] = []
        var atName = true
        var name: [UInt8] = []
        var inQuotes = false
        var escaped = false
        func endName() {
            if !name.isEmpty { names.append(String(decoding: name, as: UTF8.self)) }
            name = []
            atName = false
        }
        for byte in value.utf8 {
            if inQuotes {
                if escaped { escaped = false } else if byte == ASCII.backslash { escaped = true } else if byte == ASCII.quote { inQuotes = false }
                continue
            }
            switch byte {
            case ASCII.quote:
                if atName { name = []; atName = false }
                inQuotes = true
            case ASCII.comma:
                if atName { endName() }
                atName = true
                name = []
            case ASCII.space, ASCII.tab:
                // Whitespace before a name is allowed; after it, the name is complete.
                if atName, !name.isEmpty { endName() }
            case _ where atName && ASCII.isTokenChar(byte):
                name.append(ASCII.lowercased(byte))
            case ASCII.equals, ASCII.semicolon:
                // The name is complete; its value and parameters are not names.
                if atName { endName() }
            default:
                // Not a token character: this preference cannot be read and is ignored.
                if atName { name = []; atName = false }
            }
        }
        if atName { endName() }
        return names
    }
}
