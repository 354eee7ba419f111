/// Finds the next byte of a request head that the head parser must look at: CR, LF or NUL. Every other byte
/// only moves the scan on, so they are skipped eight at a time instead of being compared one by one (the
/// per-byte loop was ~15 instructions a byte, on every byte of every request head).
enum LineBreakScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The offset of the first CR, LF or NUL in `buffer[start..<end]`, or `end` when there is none.
    static func firstBreakOrNUL(in buffer: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var position = start
        while position + 8 <= end {
            let word = UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self))
            let found = zeroBytes(word ^ (ones &* UInt64(ASCII.cr))) | zeroBytes(word ^ (ones &* UInt64(ASCII.lf)))
                | zeroBytes(word)
            if found != 0 { return position + found.trailingZeroBitCount / 8 }
            position += 8
        }
        while position < end {
            let byte = buffer[position]
            if byte == ASCII.cr || byte == ASCII.lf || byte == 0 { return position }
            position += 1
        }
        return end
    }

    /// The high bit of every byte of `word` that is zero. A flagged byte above a true zero may be a false one (the
    /// subtraction's borrow), but the lowest flagged byte is always a true zero, and only the lowest is used.
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & highBits
    }
}
