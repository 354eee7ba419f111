import JustGateHTTP

/// Appends JSON text straight to a byte buffer, for output that is built once per request and
/// handed to a descriptor as bytes (the request log line), where going through `String` would
/// cost an allocation and a copy per value.
///
/// Escaping is ``JSONEscaping``'s, the same as ``JSONWriter``'s.
///
/// Every function is `@inlinable`: the request log line calls them two dozen times per request from
/// another module, and as calls they cost ~100-400 instructions each (an unspecialised `append(contentsOf:)`
/// behind each), more than the bytes they write.
public enum JSONBytesWriter {
    /// Appends `string` as a JSON string literal, escaped as ``JSONEscaping`` says.
    @inlinable
    public static func appendQuoted(_ string: String, to out: inout [UInt8]) {
        out.append(0x22)
        appendEscaped(string, to: &out)
        out.append(0x22)
    }

    /// Appends what goes between the quotes of `string`'s JSON literal.
    @inlinable
    public static func appendEscaped(_ string: String, to out: inout [UInt8]) {
        var text = string
        text.withUTF8 { bytes in
            JSONEscaping.walk(bytes, run: { out.append(contentsOf: $0) },
                              escape: { byte in JSONEscaping.sequence(for: byte) { out.append($0) } })
        }
    }

    /// Appends ASCII text that needs no escaping (keys and punctuation written by justgate itself).
    @inlinable @inline(__always)
    public static func appendRaw(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends an integer in decimal (`DecimalDigits`): no `String` made and taken apart.
    @inlinable
    public static func appendInteger(_ value: Int, to out: inout [UInt8]) {
        DecimalDigits.append(value, to: &out)
    }

    /// Appends `thousandths / 1000` as a JSON number with exactly three decimals (`12.034`), the
    /// form durations in milliseconds take in the logs.
    @inlinable
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
}
