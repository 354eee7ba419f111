/// How justgate escapes text inside a JSON string, defined once for the `String` writer
/// (``JSONWriter``) and the byte writer (``JSONBytesWriter``): `"` and `\` escaped, control
/// characters as `\n`, `\t`, `\r`, `\b`, `\f` or `\u00XX`, everything else (non-ASCII included) as
/// plain UTF-8.
///
/// It works on UTF-8 bytes: every byte that needs escaping is ASCII, so runs of other bytes are
/// handed over whole. Log lines escape a dozen values per request, so this must not walk Unicode
/// scalars.
@usableFromInline
enum JSONEscaping {
    /// Hands `run` each stretch of bytes that needs no escaping and `escape` each byte that does,
    /// in order.
    @inlinable @inline(__always)
    static func walk(_ bytes: UnsafeBufferPointer<UInt8>, run: (UnsafeBufferPointer<UInt8>) -> Void,
                     escape: (UInt8) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var runStart = 0
        var index = 0
        while index < bytes.count {
            // Eight bytes at a time while none of them needs escaping: most values never do.
            if index + 8 <= bytes.count,
               !wordNeedsEscaping(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                index += 8
                continue
            }
            let byte = bytes[index]
            if needsEscaping(byte) {
                if runStart < index { run(UnsafeBufferPointer(rebasing: bytes[runStart..<index])) }
                escape(byte)
                runStart = index + 1
            }
            index += 1
        }
        if runStart < bytes.count { run(UnsafeBufferPointer(rebasing: bytes[runStart...])) }
    }

    @inlinable @inline(__always)
    static func needsEscaping(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x22 || byte == 0x5C
    }

    /// Whether any of the eight bytes of `word` needs escaping; never false when one does (it may say true
    /// for a word that does not, and the bytes are then looked at one by one). The usual bit tricks: a byte
    /// below 0x20, or equal to `"` or `\` (a zero byte after an XOR), borrows into its top bit.
    @inlinable @inline(__always)
    static func wordNeedsEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let below = (word &- ones &* 0x20) & ~word
        let isQuote = (quote &- ones) & ~quote
        let isBackslash = (backslash &- ones) & ~backslash
        return (below | isQuote | isBackslash) & highs != 0
    }

    /// The escape sequence of a byte `walk` reported, byte by byte (ASCII).
    @inlinable @inline(__always)
    static func sequence(for byte: UInt8, _ emit: (UInt8) -> Void) {
        emit(0x5C)
        switch byte {
        case 0x22: emit(0x22)
        case 0x5C: emit(0x5C)
        case 0x0A: emit(0x6E)
        case 0x0D: emit(0x72)
        case 0x09: emit(0x74)
        case 0x08: emit(0x62)
        case 0x0C: emit(0x66)
        default:
            let hex: StaticString = "0123456789abcdef"
            emit(0x75)
            emit(0x30)
            emit(0x30)
            emit(hex.utf8Start[Int(byte >> 4)])
            emit(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}
