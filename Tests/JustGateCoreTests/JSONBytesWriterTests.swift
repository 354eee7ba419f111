import Testing
@testable import JustGateCore

@Suite struct JSONBytesWriterTests {
    @Test(arguments: [
        "", "plain", "q\"b\\s/\n\t\r\u{8}\u{C}\u{1}\u{1F}\u{7F}é😀", "\"", "\\\\", "end\n", "\u{0}mid\u{0}",
        "кириллица и \"кавычки\"", String(repeating: "ab\"", count: 200),
    ])
    func quotesExactlyAsTheStringWriter(text: String) {
        var bytes: [UInt8] = [0x78]
        JSONBytesWriter.appendQuoted(text, to: &bytes)
        var string = "x"
        JSONWriter.appendQuoted(text, to: &string)
        #expect(String(decoding: bytes, as: UTF8.self) == string)
    }

    @Test(arguments: [0, 7, -7, 10, 499, 1_000_000, Int.max, Int.min])
    func integersMatchSwiftsDecimalForm(value: Int) {
        var bytes: [UInt8] = []
        JSONBytesWriter.appendInteger(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == String(value))
    }

    @Test(arguments: [(0, "0.000"), (1, "0.001"), (840, "0.840"), (12_034, "12.034"), (5_000_000, "5000.000"), (-250, "-0.250"), (-1_500, "-1.500")])
    func thousandthsHaveThreeDecimals(value: Int, expected: String) {
        var bytes: [UInt8] = []
        JSONBytesWriter.appendThousandths(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }
}
