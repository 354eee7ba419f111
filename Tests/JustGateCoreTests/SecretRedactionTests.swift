import Testing
@testable import JustGateCore

/// The forms of an echoed upstream token that redaction catches (issue 21, item 14), and the ones it
/// leaves, as documented in README.md.
@Suite struct SecretRedactionTests {
    static let token = "upTok/42-ab_CD.ef"

    func redacted(_ text: String) -> String? {
        SecretRedaction.redact(Self.token, in: Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test(arguments: [
        ("exact", "a upTok/42-ab_CD.ef b"),
        ("upper case", "a UPTOK/42-AB_CD.EF b"),
        ("lower case", "a uptok/42-ab_cd.ef b"),
        ("escaped slash", "a upTok\\/42-ab_CD.ef b"),
        ("\\u escape of every character", "a " + Self.token.unicodeScalars.map { "\\u" + Self.hex4($0.value) }.joined() + " b"),
        ("\\u escapes in upper-case hex, mixed", "a \\u0055pTok\\u002F42-ab_\\u0063D.EF b"),
        ("escaped and upper-cased", "a UPTOK\\/42-AB_CD.EF b"),
        ("split by a line break", "a upTok/42-\nab_CD.ef b"),
        ("split by CRLF twice", "a up\r\nTok/42-ab_CD\r\n.ef b"),
        ("split by an escaped line break", "a upTok/42\\n-ab_CD.ef b"),
    ])
    func catches(form: String, text: String) {
        #expect(redacted(text) == "a [redacted] b", "\(form)")
    }

    @Test func everyOccurrenceIsReplacedOnceAndOverlappingPassesJoin() {
        #expect(redacted("upTok/42-ab_CD.efUPTOK\\/42-AB_CD.EF!") == "[redacted][redacted]!")
        // After a stray backslash `\u` is no escape and `\n` would decode: the raw pass still finds the token.
        #expect(redacted("C:\\upTok/42-ab_CD.ef") == "C:\\[redacted]")
        #expect(SecretRedaction.redact("nTok", in: Array("dir\\nTok".utf8)).map { String(decoding: $0, as: UTF8.self) }
            == "dir\\[redacted]")
    }

    @Test func anAbsentTokenCopiesNothing() {
        #expect(redacted("{\"juid\":\"de6f0132ea9e412599ae31262c45633b\"}") == nil)
        #expect(redacted("upTok/42-ab_CD.e") == nil)
        #expect(redacted("upTok/42-ab_CD. ef") == nil)  // a space is not a line break
        #expect(redacted("") == nil)
        #expect(SecretRedaction.redact("", in: Array("x".utf8)) == nil)
    }

    /// The check on an answer's `Content-Type`: the same forms as `redact`, and text shorter than the token
    /// (every ordinary media type) is answered without a scan.
    @Test func containsFindsTheFormsRedactFinds() {
        let token = Array(Self.token.utf8)
        #expect(SecretRedaction.contains(token, in: "text/plain; x=UPTOK\\/42-AB_CD.EF"))
        #expect(SecretRedaction.contains(token, in: "text/plain; x=upTok/42-ab_CD.ef"))
        #expect(!SecretRedaction.contains(token, in: "application/json"))
        #expect(!SecretRedaction.contains(token, in: "text/plain; x=upTok/42-ab_CD.e!"))
        #expect(!SecretRedaction.contains([], in: "application/json"))
    }

    /// Decided not to catch (README.md): base64 and percent-encoding of the token.
    @Test func otherEncodingsAreNotCaught() {
        #expect(redacted("dXBUb2svNDItYWJfQ0QuZWY=") == nil)
        #expect(redacted("upTok%2F42-ab_CD.ef") == nil)
    }

    /// A hostile answer made of near-misses is scanned in linear time: KMP never re-reads input.
    @Test func nearMissesAreNotRedacted() {
        let body = String(repeating: "upTok/42-ab_CD.e", count: 1000) + String(repeating: "\\u0075", count: 1000)
        #expect(redacted(body) == nil)
    }

    static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
