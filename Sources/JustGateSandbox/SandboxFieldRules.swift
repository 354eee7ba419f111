/// The sandbox's own, deliberately lenient validation, standing in for what the real upstream checks.
///
/// justgate validates strictly before forwarding; these rules only need to be plausible so that a request the
/// gateway lets through by mistake still gets the upstream's kind of answer.
enum SandboxFieldRules {
    /// A JUID is 32 hexadecimal digits; returns it lowercased (the form the upstream issues) or `nil`.
    static func juid(_ text: String?) -> String? {
        guard let text else { return nil }
        let bytes = Array(text.utf8)
        guard bytes.count == 32, bytes.allSatisfy(isHexDigit) else { return nil }
        return asciiLowercased(text)
    }

    /// An email needs an `@` with something on both sides and no whitespace; returns it lowercased,
    /// because addresses are matched case-insensitively when unsubscribing or updating metrics.
    static func email(_ text: String?) -> String? {
        guard let text, let at = text.utf8.firstIndex(of: UInt8(ascii: "@")) else { return nil }
        let hasLocalPart = at != text.utf8.startIndex
        let hasDomain = text.utf8.index(after: at) != text.utf8.endIndex
        let hasWhitespace = text.utf8.contains { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard hasLocalPart, hasDomain, !hasWhitespace else { return nil }
        return asciiLowercased(text)
    }

    /// A phone number is ASCII digits only, as the upstream's examples (`00000000000`) send it.
    static func number(_ text: String?) -> String? {
        guard let text, !text.isEmpty, text.utf8.allSatisfy(isDigit) else { return nil }
        return text
    }

    /// The address field of a channel's subscribe or unsubscribe form.
    static func addressFieldName(for channel: SandboxChannel) -> String {
        channel == .sms ? "number" : "email"
    }

    /// Validates an address in the way its channel requires.
    static func address(_ text: String?, channel: SandboxChannel) -> String? {
        switch channel {
        case .email: email(text)
        case .sms: number(text)
        case .push: nil
        }
    }

    /// Whether a value fits the emulated store's columns.
    static func fitsStorage(_ text: String) -> Bool {
        text.unicodeScalars.count <= SandboxLimits.maxFieldLength
    }

    /// A non-empty field value, treating an empty value the way PHP's `empty()` does: as missing.
    static func present(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    /// Parses an optionally signed decimal integer that fits in `Int64`, without Foundation.
    static func int64(_ text: String) -> Int64? {
        var digits = Substring(text)
        var negative = false
        if digits.first == "-" {
            negative = true
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy(isDigit) else { return nil }
        var value: Int64 = 0
        for byte in digits.utf8 {
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowB) = negative
                ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else { return nil }
            value = next
        }
        return value
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte)
            || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "f"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "F"))
    }

    private static func asciiLowercased(_ text: String) -> String {
        let bytes = text.utf8.map { byte in
            byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
