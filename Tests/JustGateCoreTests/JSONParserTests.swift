import Testing
@testable import JustGateCore

func parseBytes(_ bytes: [UInt8], maxDepth: Int = 32) -> Result<JSONValue, JSONParseError> {
    bytes.withUnsafeBytes { buffer in
        Result { () throws(JSONParseError) in try JSONParser.parse(buffer, maxDepth: maxDepth) }
    }
}

func parseText(_ text: String, maxDepth: Int = 32) -> Result<JSONValue, JSONParseError> {
    Result { () throws(JSONParseError) in try JSONParser.parse(text, maxDepth: maxDepth) }
}

@Suite struct JSONParserTests {
    @Test(arguments: [
        ("null", JSONValue.null),
        (" true ", .bool(true)),
        ("false", .bool(false)),
        ("0", .number("0")),
        ("-0.5e+10", .number("-0.5e+10")),
        ("99988800066", .number("99988800066")),
        ("12345678901234567890123", .number("12345678901234567890123")),
        ("1E-2", .number("1E-2")),
        (#""""#, .string("")),
        (#""a\"b\\c\/d\b\f\n\r\t""#, .string("a\"b\\c/d\u{8}\u{C}\n\r\t")),
        (#""\u0041\u00e9\u0416\u20AC""#, .string("AéЖ€")),
        (#""\uD83D\uDE00""#, .string("😀")),
        (#""Анна 😀""#, .string("Анна 😀")),
        ("[]", .array([])),
        ("[1,[2,[]],{}]", .array([.number("1"), .array([.number("2"), .array([])]), .object([])])),
        (#"{"a":1,"a":2}"#, .object([JSONMember(key: "a", value: .number("1")), JSONMember(key: "a", value: .number("2"))])),
        ("\t\r\n{ \"k\" :\n[ null ] }\n", .object([JSONMember(key: "k", value: .array([.null]))])),
    ])
    func accepts(text: String, expected: JSONValue) {
        #expect((try? parseText(text).get()) == expected)
    }

    /// The rejects corpus: every way a lenient parser would guess, and where the error points.
    @Test(arguments: [
        ("", 0), (" ", 1), ("[1,]", 3), (#"{"a":1,}"#, 7), ("[1 2]", 3), ("{'a':1}", 1), (#"{"a" 1}"#, 5), ("{a:1}", 1),
        ("// c\n1", 0), ("/* c */ 1", 0), ("1 2", 2), ("[1]x", 3), ("01", 1), ("-", 1), ("1.", 2), (".5", 0), ("1e", 2),
        ("+1", 0), ("NaN", 0), ("Infinity", 0), ("-Infinity", 1), ("0x10", 1), ("tru", 0), ("nul", 0), ("True", 0),
        ("\"abc", 4), ("\"a\nb\"", 2), ("\"a\tb\"", 2), (#""\x41""#, 1), (#""\u12""#, 5), (#""\uZZZZ""#, 3),
        (#""\uDE00""#, 1), (#""\uD83D""#, 1), (#""\uD83Dx""#, 1), (#""\uD83D\u0041""#, 1), (#""\uD83D\n""#, 1),
        ("[", 1), ("{", 1), (#"{"a":"#, 5), ("]", 0), ("\u{FEFF}1", 0),
    ])
    func rejects(text: String, offset: Int) {
        switch parseText(text) {
        case .success(let value): Issue.record("accepted \(text.debugDescription) as \(value)")
        case .failure(let error):
            #expect(error.offset == offset, "\(text.debugDescription): \(error.message)")
            #expect(error.message.hasPrefix("expected"))
        }
    }

    @Test(arguments: [
        [0x22, 0xC0, 0x80, 0x22],  // overlong NUL
        [0x22, 0xC1, 0xBF, 0x22],  // overlong
        [0x22, 0xE0, 0x80, 0x80, 0x22],  // overlong 3-byte
        [0x22, 0xED, 0xA0, 0x80, 0x22],  // UTF-8 encoded surrogate U+D800
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],  // above U+10FFFF
        [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22],
        [0x22, 0x80, 0x22],  // stray continuation byte
        [0x22, 0xE2, 0x82, 0x22],  // truncated sequence
        [0x22, 0xE2, 0x82],  // truncated at end of input
        [0xFF],
        [0x31, 0x00],  // NUL after a value
    ] as [[UInt8]])
    func rejectsInvalidUTF8(bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try parseBytes(bytes).get() }
    }

    @Test func acceptsValidMultiByteUTF8() throws {
        let bytes: [UInt8] = [0x22, 0xC2, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xF4, 0x8F, 0xBF, 0xBF, 0x22]
        #expect(try parseBytes(bytes).get() == .string("©€😀\u{10FFFF}"))
    }

    @Test func depthLimit() {
        let nested32 = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect((try? parseText(nested32).get()) != nil)
        let nested33 = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONParseError.self) { try parseText(nested33).get() }
        #expect(throws: JSONParseError.self) { try parseText(#"{"a":{"b":1}}"#, maxDepth: 1).get() }
        // Far deeper than the stack could take recursively: refused at the limit, not crashed.
        let hostile = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try parseText(hostile).get() }
    }
}
