/// Appends JSON text straight to a byte buffer, for output that is built once per request and
/// handed to a descriptor as bytes (the request log line), where going through `String` would
/// cost an allocation and a copy per value.
///
/// Escaping is the same as ``JSONWriter``'s: `"` and `\` escaped, control characters as `\n`,
/// `\t`, `\r`, `\b`, `\f` or `\u00XX`, everything else (non-ASCII included) as plain UTF-8.
public enum JSONBytesWriter {
    /// Appends `string` as a JSON string literal.
    public static func appendQuoted(_ string: String, to out: inout [UInt8]) {
        out.append(0x22)
        var text = string
        text.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                if runStart < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
                appendEscape(byte, to: &out)
                runStart = index + 1
            }
            if runStart < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...])) }
        }
        out.append(0x22)
    }

    /// Appends ASCII text that needs no escaping (keys and punctuation written by justgate itself).
    @inline(__always)
    public static func appendRaw(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends an integer in decimal without going through `String`.
    public static func appendInteger(_ value: Int, to out: inout [UInt8]) {
        if value < 0 { out.append(0x2D) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(0x30 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// Appends `thousandths / 1000` as a JSON number with exactly three decimals (`12.034`), the
    /// form durations in milliseconds take in the logs.
    public static func appendThousandths(_ thousandths: Int, to out: inout [UInt8]) {
        let whole = thousandths / 1000
        let fraction = abs(thousandths % 1000)
        if thousandths < 0 && whole == 0 { out.append(0x2D) }
        appendInteger(whole, to: &out)
        out.append(0x2E)
        out.append(UInt8(0x30 + fraction / 100))
        out.append(UInt8(0x30 + fraction / 10 % 10))
        out.append(UInt8(0x30 + fraction % 10))
    }

    private static func appendEscape(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(0x5C)
        switch byte {
        case 0x22: out.append(0x22)
        case 0x5C: out.append(0x5C)
        case 0x0A: out.append(0x6E)
        case 0x0D: out.append(0x72)
        case 0x09: out.append(0x74)
        case 0x08: out.append(0x62)
        case 0x0C: out.append(0x66)
        default:
            let hex: StaticString = "0123456789abcdef"
            out.append(0x75)
            out.append(0x30)
            out.append(0x30)
            out.append(hex.utf8Start[Int(byte >> 4)])
            out.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}
