@testable import JustGateHTTP
import Testing

/// `LineBreakScan` skips eight bytes at a time; it must find exactly the byte a byte-by-byte scan finds, wherever
/// the CR, LF or NUL falls in a word, whatever precedes it (bytes just above or below the ones it looks for, 0x80
/// and up, which a word-at-a-time test could mistake), and in every tail shorter than a word.
struct LineBreakScanTests {
    private static func naive(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
        (start..<end).first { bytes[$0] == 0x0D || bytes[$0] == 0x0A || bytes[$0] == 0 } ?? end
    }

    @Test func findsTheSameByteAsAByteByByteScan() {
        let alphabet: [UInt8] = [0x0D, 0x0A, 0x00, 0x01, 0x0B, 0x0C, 0x0E, 0x09, 0x20, 0x41, 0x7F, 0x80, 0x8D, 0x8A, 0xFF]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<4000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let length = Int(state >> 58)  // 0...63
            var bytes: [UInt8] = []
            for index in 0..<length {
                let pick = Int((state >> UInt64(index % 50)) & 0xFF) &+ index &* 7
                // Mostly ordinary letters, now and then one of the alphabet's edge bytes.
                bytes.append(pick % 9 == 0 ? alphabet[pick % alphabet.count] : UInt8(0x61 + pick % 26))
            }
            let start = length == 0 ? 0 : Int(state % UInt64(length + 1))
            bytes.withUnsafeBytes { buffer in
                #expect(LineBreakScan.firstBreakOrNUL(in: buffer, from: start, to: length) == Self.naive(bytes, from: start, to: length),
                        "\(bytes) from \(start)")
            }
        }
    }

    @Test func findsEachBreakAtEveryOffsetOfAWord() {
        for target: UInt8 in [0x0D, 0x0A, 0x00] {
            for offset in 0..<24 {
                var bytes = [UInt8](repeating: 0x8D, count: 24)  // 0x8D: CR with the high bit set, never a match
                bytes[offset] = target
                if offset + 1 < bytes.count { bytes[offset + 1] = 0x00 }
                bytes.withUnsafeBytes { buffer in
                    #expect(LineBreakScan.firstBreakOrNUL(in: buffer, from: 0, to: bytes.count) == offset)
                }
            }
        }
    }
}
