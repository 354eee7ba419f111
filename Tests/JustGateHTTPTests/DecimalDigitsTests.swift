import JustGateHTTP
import Testing

/// The one decimal writer behind status lines, `Content-Length`, RESP length prefixes and JSON numbers.
@Suite struct DecimalDigitsTests {
    @Test(arguments: [0, 7, 10, 200, 65_535, -1, -42, Int.max, Int.min])
    func writesWhatStringWrites(_ value: Int) {
        var out: [UInt8] = [0x41]
        DecimalDigits.append(value, to: &out)
        #expect(out == [0x41] + Array(String(value).utf8))
    }
}
