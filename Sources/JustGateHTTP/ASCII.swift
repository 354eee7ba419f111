/// Byte classes from RFC 9110/9112 used by every parser in this module, kept as switches so they compile to a few
/// comparisons instead of table lookups through lazily initialised globals.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let slash: UInt8 = 0x2F
    static let question: UInt8 = 0x3F
    static let percent: UInt8 = 0x25
    static let plus: UInt8 = 0x2B
    static let ampersand: UInt8 = 0x26
    static let comma: UInt8 = 0x2C
    static let hyphen: UInt8 = 0x2D

    /// `tchar` (RFC 9110 §5.6.2): the characters allowed in methods, field names and parameter names.
    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true  // DIGIT / ALPHA
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E: true  // ! # $ % & ' * + - .
        case 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true  // ^ _ ` | ~
        default: false
        }
    }

    /// SP or HTAB: optional whitespace (OWS/BWS).
    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    /// Bytes allowed in a field value or quoted text: HTAB, SP, VCHAR and obs-text; no other control characters.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// `qdtext` (RFC 9110 §5.6.4): what a quoted-string may hold without a backslash.
    @inline(__always)
    static func isQuotedTextByte(_ byte: UInt8) -> Bool {
        isFieldValueByte(byte) && byte != quote && byte != backslash
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte &- 0x30)
        case 0x41...0x46: Int(byte &- 0x41 &+ 10)
        case 0x61...0x66: Int(byte &- 0x61 &+ 10)
        default: nil
        }
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// Case-insensitive comparison of ASCII text without allocating lowercased copies.
    static func caseInsensitiveEquals(_ lhs: some StringProtocol, _ rhs: some StringProtocol) -> Bool {
        // Header lookups compare a name with every header of the request: most differ in length,
        // which native strings know without a walk.
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        var left = lhs.utf8.makeIterator()
        var right = rhs.utf8.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return true
            case let (l?, r?) where lowercased(l) == lowercased(r): continue
            default: return false
            }
        }
    }

    /// The same for two `String`s, compared over their contiguous UTF-8: header lookups run this
    /// for every header of every request, and many names share a length ("X-AUTH-TOKEN",
    /// "Content-Type" and "X-Request-Id" are all 12 bytes).
    static func caseInsensitiveEquals(_ lhs: String, _ rhs: String) -> Bool {
        guard lhs.utf8.count == rhs.utf8.count else { return false }
        let compared = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in
                for index in 0..<left.count where lowercased(left[index]) != lowercased(right[index]) { return false }
                return true
            }
        }
        if let compared = compared ?? nil { return compared }
        return lhs.utf8.elementsEqual(rhs.utf8) { lowercased($0) == lowercased($1) }
    }

    /// Compares `bytes` with a lowercase ASCII literal, ignoring the case of `bytes`.
    static func caseInsensitiveEquals(_ bytes: UnsafeRawBufferPointer.SubSequence, lowercase literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        var index = 0
        for byte in bytes {
            if lowercased(byte) != expected[index] { return false }
            index += 1
        }
        return true
    }

    /// Lowercases ASCII letters in a string (field names, media types), leaving other characters alone.
    static func lowercased(_ text: some StringProtocol) -> String {
        String(decoding: text.utf8.map { lowercased($0) }, as: UTF8.self)
    }
}
