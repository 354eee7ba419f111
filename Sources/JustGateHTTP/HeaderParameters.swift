/// Parser for `token *( OWS ";" OWS [ token "=" ( token / quoted-string ) ] )` (RFC 9110 §5.6.6), the shape shared
/// by Content-Type and Content-Disposition, so both are read by the same strict code.
enum HeaderParameters {
    /// The leading token (e.g. "multipart/form-data" or "form-data") and its parameters with lowercased names.
    /// Returns nil when the text does not follow the grammar, a value is not valid UTF-8, or a name repeats
    /// (a repeated boundary or field name is ambiguous, and ambiguity is refused).
    static func parse(
        _ text: UnsafeRawBufferPointer, leadingAllowsSlash: Bool
    ) -> (leading: Range<Int>, parameters: [(name: String, value: String)])? {
        var index = 0
        let end = text.count
        skipWhitespace(text, &index)
        let leadingStart = index
        var slashes = 0
        while index < end, ASCII.isTokenChar(text[index]) || (leadingAllowsSlash && text[index] == ASCII.slash) {
            if text[index] == ASCII.slash { slashes += 1 }
            index += 1
        }
        let leading = leadingStart..<index
        guard !leading.isEmpty else { return nil }
        if leadingAllowsSlash {
            guard slashes == 1, text[leadingStart] != ASCII.slash, text[index - 1] != ASCII.slash else { return nil }
        }
        var parameters: [(name: String, value: String)] = []
        while true {
            skipWhitespace(text, &index)
            guard index < end else { return (leading, parameters) }
            guard text[index] == ASCII.semicolon else { return nil }
            index += 1
            skipWhitespace(text, &index)
            guard index < end, text[index] != ASCII.semicolon else { continue }  // empty parameter
            guard let (name, value) = parseParameter(text, &index) else { return nil }
            if parameters.contains(where: { $0.name == name }) { return nil }
            parameters.append((name, value))
        }
    }

    private static func parseParameter(_ text: UnsafeRawBufferPointer, _ index: inout Int) -> (String, String)? {
        let end = text.count
        let nameStart = index
        while index < end, ASCII.isTokenChar(text[index]) { index += 1 }
        guard index > nameStart, index < end, text[index] == ASCII.equals else { return nil }
        let name = ASCII.lowercased(String(decoding: UnsafeRawBufferPointer(rebasing: text[nameStart..<index]), as: UTF8.self))
        index += 1
        guard index < end else { return nil }
        if text[index] != ASCII.quote {
            let valueStart = index
            while index < end, ASCII.isTokenChar(text[index]) { index += 1 }
            guard index > valueStart else { return nil }
            return (name, String(decoding: UnsafeRawBufferPointer(rebasing: text[valueStart..<index]), as: UTF8.self))
        }
        index += 1
        var value: [UInt8] = []
        while index < end {
            let byte = text[index]
            index += 1
            if byte == ASCII.quote {
                guard let decoded = value.withUnsafeBytes({ UTF8Text.validated($0) }) else { return nil }
                return (name, decoded)
            }
            if byte == ASCII.backslash {
                guard index < end, ASCII.isFieldValueByte(text[index]) else { return nil }
                value.append(text[index])
                index += 1
            } else if ASCII.isQuotedTextByte(byte) {
                value.append(byte)
            } else {
                return nil
            }
        }
        return nil  // unterminated quoted-string
    }

    private static func skipWhitespace(_ text: UnsafeRawBufferPointer, _ index: inout Int) {
        while index < text.count, ASCII.isWhitespace(text[index]) { index += 1 }
    }
}
