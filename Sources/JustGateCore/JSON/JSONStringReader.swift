/// String literals: escapes, surrogate pairs and UTF-8 validation for ``JSONReader``.
///
/// Split from the structural parser because it carries the byte-level rules that make the parser strict:
/// every string is valid UTF-8 (no overlong forms, no encoded surrogates, nothing past U+10FFFF), raw
/// control characters are refused, and `\u` escapes must form whole scalars.
extension JSONReader {
    mutating func string() throws(JSONParseError) -> String {
        position += 1  // opening quote
        var decoded: [UInt8] = []
        var runStart = position
        while true {
            guard let byte = current else { throw error("expected a closing '\"' before the end of the input") }
            switch byte {
            case UInt8(ascii: "\""):
                decoded.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]))
                position += 1
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                decoded.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<position]))
                try escape(into: &decoded)
                runStart = position
            case 0x00..<0x20:
                throw error("expected control characters in strings to be escaped (\\n, \\t, \\u00XX)")
            case 0x80...:
                try skipUTF8Sequence(lead: byte)
            default:
                position += 1
            }
        }
    }

    /// Validates one multi-byte UTF-8 sequence and moves past it.
    mutating func skipUTF8Sequence(lead: UInt8) throws(JSONParseError) {
        let start = position
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw error("expected valid UTF-8")
        }
        for offset in 1..<length {
            let index = start + offset
            guard index < bytes.count else { throw error("expected valid UTF-8", at: start) }
            let range = offset == 1 ? secondRange : 0x80...0xBF
            guard range.contains(bytes[index]) else { throw error("expected valid UTF-8", at: start) }
        }
        position += length
    }

    mutating func escape(into decoded: inout [UInt8]) throws(JSONParseError) {
        let start = position
        position += 1  // backslash
        guard let byte = current else { throw error("expected an escape character after '\\'") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(byte)
        case UInt8(ascii: "b"): decoded.append(0x08)
        case UInt8(ascii: "f"): decoded.append(0x0C)
        case UInt8(ascii: "n"): decoded.append(0x0A)
        case UInt8(ascii: "r"): decoded.append(0x0D)
        case UInt8(ascii: "t"): decoded.append(0x09)
        case UInt8(ascii: "u"):
            var value = try hex4()
            if (0xDC00...0xDFFF).contains(value) {
                throw error("expected a high surrogate before \\u\(String(value, radix: 16))", at: start)
            }
            if (0xD800...0xDBFF).contains(value) {
                guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") else {
                    throw error("expected a low surrogate \\uDC00-\\uDFFF after a high surrogate", at: start)
                }
                position += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("expected a low surrogate \\uDC00-\\uDFFF after a high surrogate", at: start)
                }
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(value) else { throw error("expected a Unicode scalar", at: start) }
            decoded.append(contentsOf: String(scalar).utf8)
        default:
            throw error("expected one of the escapes \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", at: start)
        }
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw error("expected four hex digits after \\u") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - 0x30
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - 0x61 + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - 0x41 + 10
            default: throw error("expected four hex digits after \\u")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
