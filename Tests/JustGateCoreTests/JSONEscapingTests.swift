import Testing
@testable import JustGateCore

/// The eight-bytes-at-a-time scan must find every byte that needs escaping, wherever it sits in a word.
@Suite struct JSONEscapingTests {
    /// The escaped text, one byte at a time: what `walk` must always produce.
    static func reference(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for byte in bytes {
            if JSONEscaping.needsEscaping(byte) {
                JSONEscaping.sequence(for: byte) { out.append($0) }
            } else {
                out.append(byte)
            }
        }
        return out
    }

    static func walked(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        bytes.withUnsafeBufferPointer { buffer in
            JSONEscaping.walk(buffer, run: { out.append(contentsOf: $0) },
                              escape: { JSONEscaping.sequence(for: $0) { out.append($0) } })
        }
        return out
    }

    @Test func everyByteValueAtEveryPositionIsEscapedAsByteByByte() {
        // Fillers next to the interesting byte: plain ASCII, neighbours of the special bytes, and UTF-8 bytes.
        for filler: UInt8 in [0x41, 0x21, 0x23, 0x5B, 0x5D, 0x20, 0x7F, 0x80, 0xD0, 0xFF] {
            for length in [1, 7, 8, 9, 16, 17, 23] {
                for position in 0..<length {
                    for value in UInt8.min...UInt8.max {
                        var bytes = [UInt8](repeating: filler, count: length)
                        bytes[position] = value
                        #expect(JSONEscapingTests.walked(bytes) == JSONEscapingTests.reference(bytes),
                                "byte \(value) at \(position) of \(length), filler \(filler)")
                    }
                }
            }
        }
    }

    @Test func aWordIsFlaggedWheneverOneOfItsBytesNeedsEscaping() {
        for position in 0..<8 {
            for value in UInt8.min...UInt8.max where JSONEscaping.needsEscaping(value) {
                for filler: UInt8 in [0x00, 0x1F, 0x21, 0x41, 0x5D, 0x80, 0xFF] {
                    var word: UInt64 = 0
                    for index in 0..<8 {
                        word |= UInt64(index == position ? value : filler) << (8 * index)
                    }
                    #expect(JSONEscaping.wordNeedsEscaping(word), "byte \(value) at \(position), filler \(filler)")
                }
            }
        }
        #expect(!JSONEscaping.wordNeedsEscaping(0x4847_4645_4443_4241), "ABCDEFGH needs nothing")
    }
}
