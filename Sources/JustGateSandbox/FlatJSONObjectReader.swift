/// A top-level JSON member value as the UTM update needs it: scalars keep their text, anything nested is only
/// known to exist.
enum FlatJSONValue: Equatable, Sendable {
    case string(String)
    /// The number exactly as written, so `99988800066` can serve as a phone number without float rounding.
    case number(String)
    case bool(Bool)
    case null
    /// An object or array; validated but not kept, since no UTM field is structured.
    case nested
}

/// Reads the `data` field of the UTM-metric update: one JSON object whose top-level members are looked up by name.
///
/// The reference's own example wraps the object in an extra pair of quotes (`data="{"email":...}"`), and a real
/// PHP upstream shrugs that off, so a single surrounding pair of quotes is tolerated. Duplicate keys keep the last
/// value, as PHP's `json_decode` does. Nesting is limited so hostile input cannot exhaust the stack.
struct FlatJSONObjectReader {
    private static let maxDepth = 32

    private let bytes: [UInt8]
    private var position = 0

    private init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// The object's top-level members, or `nil` when `text` is not a single JSON object.
    static func members(of text: String) -> [String: FlatJSONValue]? {
        if let members = parseObjectText(text) { return members }
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return nil }
        return parseObjectText(String(decoding: bytes.dropFirst().dropLast(), as: UTF8.self))
    }

    private static func parseObjectText(_ text: String) -> [String: FlatJSONValue]? {
        var reader = FlatJSONObjectReader(text)
        reader.skipWhitespace()
        guard reader.peek == UInt8(ascii: "{"), let members = reader.parseObject(depth: 1) else { return nil }
        reader.skipWhitespace()
        return reader.position == reader.bytes.count ? members : nil
    }

    private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        position += 1
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { position += 1 }
    }

    private mutating func parseObject(depth: Int) -> [String: FlatJSONValue]? {
        guard depth <= Self.maxDepth, consume(UInt8(ascii: "{")) else { return nil }
        var members: [String: FlatJSONValue] = [:]
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return members }
        while true {
            skipWhitespace()
            guard let key = parseString() else { return nil }
            skipWhitespace()
            guard consume(UInt8(ascii: ":")), let value = parseValue(depth: depth) else { return nil }
            members[key] = value
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return members }
            guard consume(UInt8(ascii: ",")) else { return nil }
        }
    }

    private mutating func parseArray(depth: Int) -> Bool {
        guard depth <= Self.maxDepth, consume(UInt8(ascii: "[")) else { return false }
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return true }
        while true {
            guard parseValue(depth: depth) != nil else { return false }
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return true }
            guard consume(UInt8(ascii: ",")) else { return false }
        }
    }

    private mutating func parseValue(depth: Int) -> FlatJSONValue? {
        skipWhitespace()
        switch peek {
        case UInt8(ascii: "\""): return parseString().map(FlatJSONValue.string)
        case UInt8(ascii: "{"): return parseObject(depth: depth + 1) == nil ? nil : .nested
        case UInt8(ascii: "["): return parseArray(depth: depth + 1) ? .nested : nil
        case UInt8(ascii: "t"): return parseLiteral("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return parseLiteral("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return parseLiteral("null") ? .null : nil
        default: return parseNumber().map(FlatJSONValue.number)
        }
    }

    private mutating func parseLiteral(_ word: String) -> Bool {
        for byte in word.utf8 {
            guard consume(byte) else { return false }
        }
        return true
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, returned verbatim.
    private mutating func parseNumber() -> String? {
        let start = position
        _ = consume(UInt8(ascii: "-"))
        if !consume(UInt8(ascii: "0")) {
            guard consumeDigits() else { return nil }
        }
        if consume(UInt8(ascii: ".")) {
            guard consumeDigits() else { return nil }
        }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard consumeDigits() else { return nil }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private mutating func consumeDigits() -> Bool {
        let start = position
        while let byte = peek, SandboxFieldRules.isDigit(byte) { position += 1 }
        return position > start
    }

    private mutating func parseString() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        var scalars = String.UnicodeScalarView()
        var pendingRun = position
        while let byte = peek {
            switch byte {
            case UInt8(ascii: "\""):
                scalars.append(contentsOf: String(decoding: bytes[pendingRun..<position], as: UTF8.self).unicodeScalars)
                position += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                scalars.append(contentsOf: String(decoding: bytes[pendingRun..<position], as: UTF8.self).unicodeScalars)
                position += 1
                guard let escaped = parseEscape() else { return nil }
                scalars.append(escaped)
                pendingRun = position
            case 0x00..<0x20:
                return nil
            default:
                position += 1
            }
        }
        return nil
    }

    /// One escape after the backslash; a lone UTF-16 surrogate becomes U+FFFD rather than failing the request.
    private mutating func parseEscape() -> Unicode.Scalar? {
        guard let byte = peek else { return nil }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            guard let unit = parseHex4() else { return nil }
            guard (0xD800..<0xDC00).contains(unit) else { return Unicode.Scalar(unit) ?? "\u{FFFD}" }
            let resume = position
            if consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = parseHex4(),
                (0xDC00..<0xE000).contains(low)
            {
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
            }
            position = resume
            return "\u{FFFD}"
        default:
            return nil
        }
    }

    private mutating func parseHex4() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
