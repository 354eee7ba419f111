/// Percent-decoding shared by query strings, urlencoded bodies and paths, written once so every caller rejects the
/// same invalid input (a lone '%', non-hex digits, bytes that are not UTF-8).
enum PercentEncoding {
    /// Decodes `%XX` escapes (and '+' as space when `plusIsSpace`) and validates UTF-8; nil when invalid.
    static func decode(_ bytes: UnsafeRawBufferPointer, plusIsSpace: Bool) -> String? {
        // Fast path: nothing to decode, just validate.
        if !bytes.contains(where: { $0 == ASCII.percent || (plusIsSpace && $0 == ASCII.plus) }) {
            return UTF8Text.validated(bytes)
        }
        // Decoded into scratch space (on the stack for field-sized values), so the only allocation is the
        // string's own, and none at all for short values.
        return withUnsafeTemporaryAllocation(byteCount: bytes.count, alignment: 1) { decoded -> String? in
            var index = 0
            var written = 0
            while index < bytes.count {
                let byte = bytes[index]
                if byte == ASCII.percent {
                    guard index + 2 < bytes.count,
                        let high = ASCII.hexValue(bytes[index + 1]), let low = ASCII.hexValue(bytes[index + 2])
                    else { return nil }
                    decoded[written] = UInt8(high << 4 | low)
                    index += 3
                } else {
                    decoded[written] = plusIsSpace && byte == ASCII.plus ? ASCII.space : byte
                    index += 1
                }
                written += 1
            }
            return UTF8Text.validated(UnsafeRawBufferPointer(rebasing: decoded[..<written]))
        }
    }

    /// The bytes `encodeFormComponent` writes for `text`: one per byte that stays, three per escape.
    static func formEncodedLength(_ text: UnsafeBufferPointer<UInt8>) -> Int {
        var length = 0
        for byte in text { length += staysInForm(byte) || byte == ASCII.space ? 1 : 3 }
        return length
    }

    /// The WHATWG application/x-www-form-urlencoded byte serializer: ASCII alphanumerics and `*-._` stay,
    /// space becomes '+', every other UTF-8 byte becomes %XX with uppercase hex.
    /// Writes the encoding of `text` at `position` in `out`, which has room for `formEncodedLength(text)`
    /// more bytes, and returns the position after it: no capacity check per byte, as appending had.
    static func encodeFormComponent(_ text: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
                                    at position: Int) -> Int {
        let hex: StaticString = "0123456789ABCDEF"
        var position = position
        for byte in text {
            if staysInForm(byte) {
                out[position] = byte
                position += 1
            } else if byte == ASCII.space {
                out[position] = ASCII.plus
                position += 1
            } else {
                out[position] = ASCII.percent
                out[position + 1] = hex.utf8Start[Int(byte >> 4)]
                out[position + 2] = hex.utf8Start[Int(byte & 0x0F)]
                position += 3
            }
        }
        return position
    }

    @inline(__always)
    private static func staysInForm(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2A, 0x2D, 0x2E, 0x5F: true
        default: false
        }
    }
}
