/// Finds a secret in bytes in the forms an echoing upstream may give it, in one linear pass.
///
/// Exact bytes are not enough: an upstream that echoes its input may upper-case it, JSON-escape it
/// (`\/` for `/`, `\u0041` for `A`, any mix) or fold it onto two lines. The scanner reads the bytes as
/// a stream of characters, decoding JSON string escapes as it goes, skipping line breaks (raw CR/LF and
/// the escapes `\r`, `\n`) and folding ASCII case, and runs Knuth–Morris–Pratt over that stream with the
/// case-folded secret: every byte is looked at a bounded number of times whatever the input, so a
/// hostile answer cannot make it slow. When the bytes contain a backslash, a second pass reads them
/// without decoding, so a secret right after a stray backslash (`C:\token`, where `\t` would decode
/// as a tab) is still found.
///
/// Not caught (documented in README.md): other encodings (base64, percent-encoding, HTML entities),
/// escapes of non-ASCII bytes of a secret (justgate's tokens are ASCII), and a secret broken by
/// anything other than a line break.
enum TokenEchoScanner {
    /// The byte ranges to replace, sorted and not overlapping; empty when the secret is absent.
    static func ranges(of secret: [UInt8], in bytes: [UInt8]) -> [Range<Int>] {
        let length = secret.count
        guard length > 0, bytes.count >= length else { return [] }
        // A secret with a line break of its own could never match once breaks are skipped.
        let skipsBreaks = !secret.contains(0x0A) && !secret.contains(0x0D)
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: length) { pattern in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: length) { failure in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: length) { starts in
                    for index in 0..<length { pattern[index] = fold(UInt16(secret[index])) }
                    buildFailureTable(pattern, into: failure)
                    return bytes.withUnsafeBufferPointer { input in
                        let scan = Scan(pattern: UnsafeBufferPointer(pattern), failure: UnsafeBufferPointer(failure),
                                        starts: starts, skipsBreaks: skipsBreaks)
                        let decoded = scan.matches(in: input, decodingEscapes: true)
                        guard input.contains(0x5C) else { return decoded }
                        return merge(decoded, scan.matches(in: input, decodingEscapes: false))
                    }
                }
            }
        }
    }

    /// One KMP run over a byte buffer; `starts` is a ring of where each of the last `pattern.count`
    /// characters began, so a match knows its first byte.
    private struct Scan {
        let pattern: UnsafeBufferPointer<UInt16>
        let failure: UnsafeBufferPointer<Int>
        let starts: UnsafeMutableBufferPointer<Int>
        let skipsBreaks: Bool

        func matches(in input: UnsafeBufferPointer<UInt8>, decodingEscapes: Bool) -> [Range<Int>] {
            var found: [Range<Int>] = []
            let length = pattern.count
            let first = UInt8(truncatingIfNeeded: pattern[0])
            var matched = 0
            // The ring slot the next character's start goes to; once `length` characters were fed, it is
            // also the oldest entry, which is where a match that ends now began.
            var slot = 0
            var index = 0
            while index < input.count {
                if matched == 0 {
                    // The common case, no echo: skip at byte speed to a byte that can begin the secret
                    // (or an escape that might decode to one). Skipped bytes could not have started a match.
                    while index < input.count {
                        let byte = input[index]
                        if (decodingEscapes && byte == 0x5C) || (byte &- 0x41 < 26 ? byte | 0x20 : byte) == first { break }
                        index += 1
                    }
                    if index == input.count { break }
                }
                let start = index
                let character: UInt16
                if decodingEscapes && input[index] == 0x5C {
                    let unit = TokenEchoScanner.escape(in: input, at: index)
                    character = unit.character
                    index += unit.length
                } else {
                    character = UInt16(input[index])
                    index += 1
                }
                if skipsBreaks && (character == 0x0A || character == 0x0D) { continue }
                let folded = TokenEchoScanner.fold(character)
                while matched > 0 && pattern[matched] != folded { matched = failure[matched - 1] }
                if pattern[matched] == folded { matched += 1 }
                starts[slot] = start
                slot += 1
                if slot == length { slot = 0 }
                if matched == length {
                    found.append(starts[slot]..<index)
                    matched = 0
                }
            }
            return found
        }
    }

    /// The character a backslash at `index` starts and how many bytes it spans: a JSON escape decoded
    /// (`\uXXXX` of a non-ASCII character becomes 0x100, which no secret byte equals), anything else
    /// the backslash itself.
    static func escape(in input: UnsafeBufferPointer<UInt8>, at index: Int) -> (character: UInt16, length: Int) {
        guard index + 1 < input.count else { return (0x5C, 1) }
        switch input[index + 1] {
        case 0x22, 0x5C, 0x2F: return (UInt16(input[index + 1]), 2)  // \" \\ \/
        case 0x6E: return (0x0A, 2)  // \n
        case 0x72: return (0x0D, 2)  // \r
        case 0x74: return (0x09, 2)  // \t
        case 0x62: return (0x08, 2)  // \b
        case 0x66: return (0x0C, 2)  // \f
        case 0x75:  // \uXXXX
            guard index + 5 < input.count else { return (0x5C, 1) }
            var value: UInt16 = 0
            for offset in 2...5 {
                guard let digit = hexValue(input[index + offset]) else { return (0x5C, 1) }
                value = value << 4 | digit
            }
            return (value < 0x80 ? value : 0x100, 6)
        default:
            return (0x5C, 1)
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt16? {
        switch byte {
        case 0x30...0x39: return UInt16(byte - 0x30)
        case 0x41...0x46: return UInt16(byte - 0x37)
        case 0x61...0x66: return UInt16(byte - 0x57)
        default: return nil
        }
    }

    /// ASCII letters to lower case; every other character as it is.
    static func fold(_ character: UInt16) -> UInt16 {
        character >= 0x41 && character <= 0x5A ? character | 0x20 : character
    }

    private static func buildFailureTable(_ pattern: UnsafeMutableBufferPointer<UInt16>, into failure: UnsafeMutableBufferPointer<Int>) {
        failure[0] = 0
        var prefix = 0
        for index in 1..<max(pattern.count, 1) {
            while prefix > 0 && pattern[index] != pattern[prefix] { prefix = failure[prefix - 1] }
            if pattern[index] == pattern[prefix] { prefix += 1 }
            failure[index] = prefix
        }
    }

    /// Two sorted range lists as one, overlapping ranges joined (touching ones stay two, as two echoes are).
    private static func merge(_ first: [Range<Int>], _ second: [Range<Int>]) -> [Range<Int>] {
        guard !second.isEmpty else { return first }
        guard !first.isEmpty else { return second }
        var merged: [Range<Int>] = []
        for range in (first + second).sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound < last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
