/// Small Unicode helpers shared by the rules: trimming, control-character tests and safe echoing.
///
/// They work on Unicode scalars with ASCII fast paths and avoid Foundation, because they run for
/// every field of every request.
enum UnicodeText {
    /// Whether a scalar is Unicode White_Space (tested without a table lookup for ASCII).
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 {
            return scalar.value == 0x20 || (scalar.value >= 0x09 && scalar.value <= 0x0D)
        }
        return scalar.properties.isWhitespace
    }

    /// Whether a scalar is a control character: general category Cc, or a line/paragraph separator,
    /// which would split a one-line value when written to a log or a header.
    @inline(__always)
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return value < 0x20 || (value >= 0x7F && value <= 0x9F) || value == 0x2028 || value == 0x2029
    }

    /// Whether a scalar reorders or hides text: the bidirectional embeddings, overrides and isolates
    /// (U+202A–U+202E, U+2066–U+2069), the direction marks (U+200E, U+200F, U+061C) and the byte order
    /// mark U+FEFF. They make a value read differently from what it is (`moc.elpmaxe` shown as
    /// `example.com`), so keys and values where nobody needs them refuse them.
    @inline(__always)
    static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return (value >= 0x202A && value <= 0x202E) || (value >= 0x2066 && value <= 0x2069)
            || value == 0x200E || value == 0x200F || value == 0x061C || value == 0xFEFF
    }

    /// Whether any scalar is a control character or a bidirectional control.
    static func containsControlOrBidi(_ text: some StringProtocol) -> Bool {
        text.unicodeScalars.contains { isControl($0) || isBidiControl($0) }
    }

    /// The value without leading and trailing Unicode whitespace.
    static func trimmed(_ text: Substring) -> Substring {
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, isWhitespace(scalars[start]) {
            start = scalars.index(after: start)
        }
        while end > start {
            let before = scalars.index(before: end)
            guard isWhitespace(scalars[before]) else { break }
            end = before
        }
        return Substring(scalars[start..<end])
    }

    /// The value without leading and trailing Unicode whitespace.
    static func trimmed(_ text: String) -> Substring {
        trimmed(Substring(text))
    }

    /// Whether any scalar is a control character.
    static func containsControl(_ text: Substring) -> Bool {
        text.unicodeScalars.contains(where: isControl)
    }

    /// The number of Unicode scalars, the unit every text limit counts.
    static func scalarCount(_ text: Substring) -> Int {
        text.unicodeScalars.count
    }

    /// ASCII-only lowercase; non-ASCII bytes are left untouched.
    static func asciiLowercased(_ text: Substring) -> String {
        var bytes = Array(text.utf8)
        for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5A {
            bytes[index] += 0x20
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Quotes a short, escaped prefix of user input for an error message.
    ///
    /// Messages end up in logs and JSON bodies; echoing at most 32 scalars with control characters
    /// escaped keeps a hostile value from flooding or forging log lines.
    static func echo(_ text: some StringProtocol) -> String {
        let limit = ProblemText.maxExcerptCharacters
        var out = "\""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit {
                out += "…"
                break
            }
            count += 1
            if isControl(scalar) || scalar == "\"" || scalar == "\\" {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                default: out += "\\u{" + String(scalar.value, radix: 16) + "}"
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}
