/// Percent-decoding shared by query strings, urlencoded bodies and paths, written once so every caller rejects the
/// same invalid input (a lone '%', non-hex digits, bytes that are not UTF-8).
enum PercentEncoding {
    /// Decodes `%XX` escapes (and '+' as space when `plusIsSpace`) and validates UTF-8; nil when invalid.
    static func decode(_ bytes: UnsafeRawBufferPointer, plusIsSpace: Bool) -> String? {
        // Fast path: nothing to decode, just validate.
        if !bytes.contains(where: { $0 == ASCII.percent || (plusIsSpace && $0 == ASCII.plus) }) {
            return UTF8Text.validated(bytes)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == ASCII.percent {
                guard index + 2 < bytes.count,
                    let high = ASCII.hexValue(bytes[index + 1]), let low = ASCII.hexValue(bytes[index + 2])
                else { return nil }
                decoded.append(UInt8(high << 4 | low))
                index += 3
            } else {
                decoded.append(plusIsSpace && byte == ASCII.plus ? ASCII.space : byte)
                index += 1
            }
        }
        return decoded.withUnsafeBytes { UTF8Text.validated($0) }
    }

    /// The WHATWG application/x-www-form-urlencoded byte serializer: ASCII alphanumerics and `*-._` stay,
    /// space becomes '+', every other UTF-8 byte becomes %XX with uppercase hex.
    static func encodeFormComponent(_ text: String, into out: inout [UInt8]) {
        let hex: StaticString = "0123456789ABCDEF"
        for byte in text.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2A, 0x2D, 0x2E, 0x5F:
                out.append(byte)
            case ASCII.space:
                out.append(ASCII.plus)
            default:
                out.append(ASCII.percent)
                out.append(hex.utf8Start[Int(byte >> 4)])
                out.append(hex.utf8Start[Int(byte & 0x0F)])
            }
        }
    }
}
