/// One `field-name ":" OWS field-value OWS` line (RFC 9112 §5), as offsets into the read buffer.
struct HeaderFieldLine {
    var name: Range<Int>
    var value: Range<Int>

    /// Validates a header line and locates its name and OWS-trimmed value.
    ///
    /// Rejections follow RFC 9112 §5.1–5.2 where a lenient parser would let two hops disagree about a field:
    /// obs-fold continuation lines, whitespace before the colon, non-token names and control bytes in values.
    static func parse(_ buffer: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTPParseError) -> HeaderFieldLine {
        if ASCII.isWhitespace(buffer[line.lowerBound]) {
            throw .badRequest("Header lines must not start with whitespace (obsolete line folding); send each field on one line.")
        }
        var index = line.lowerBound
        while index < line.upperBound, ASCII.isTokenChar(buffer[index]) { index += 1 }
        guard index < line.upperBound, buffer[index] == ASCII.colon else {
            if index < line.upperBound, ASCII.isWhitespace(buffer[index]) {
                throw .badRequest("A header field name must be followed directly by ':' without whitespace.")
            }
            throw .badRequest("Each header line must be 'Name: value' with a name made of token characters.")
        }
        let name = line.lowerBound..<index
        guard !name.isEmpty else {
            throw .badRequest("A header line has an empty field name; send 'Name: value'.")
        }
        var start = index + 1
        var end = line.upperBound
        for position in start..<end where !ASCII.isFieldValueByte(buffer[position]) {
            throw .badRequest("The value of a header field contains a control character; only tabs, spaces and visible characters are allowed.")
        }
        while start < end, ASCII.isWhitespace(buffer[start]) { start += 1 }
        while end > start, ASCII.isWhitespace(buffer[end - 1]) { end -= 1 }
        return HeaderFieldLine(name: name, value: start..<end)
    }
}
