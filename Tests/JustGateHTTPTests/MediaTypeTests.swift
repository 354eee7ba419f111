import JustGateHTTP
import Testing

@Suite("Media types")
struct MediaTypeTests {
    @Test("parses type, subtype and parameters", arguments: [
        ("application/json", "application", "json", [:]),
        ("Application/X-WWW-Form-URLEncoded; Charset=UTF-8", "application", "x-www-form-urlencoded", ["charset": "UTF-8"]),
        ("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", "multipart", "form-data",
         ["boundary": "----WebKitFormBoundary7MA4YWxkTrZu0gW"]),
        ("multipart/form-data;boundary=\"a \\\"quoted\\\" b\"", "multipart", "form-data", ["boundary": "a \"quoted\" b"]),
        ("text/plain ; a=1 ;; b=2 ;", "text", "plain", ["a": "1", "b": "2"]),
    ] as [(String, String, String, [String: String])])
    func parses(text: String, type: String, subtype: String, parameters: [String: String]) throws {
        let mediaType = try #require(MediaType(parsing: text))
        #expect(mediaType == MediaType(type: type, subtype: subtype, parameters: parameters))
        #expect(mediaType.matches(type: type.uppercased(), subtype: subtype))
    }

    @Test("rejects malformed media types", arguments: [
        "", "json", "/json", "application/", "application/json/x", "text/plain; charset", "text/plain; =x",
        "text/plain; a=\"unterminated", "text/plain; a=1 b", "text/plain; a=1; A=2", "text plain", "text/plain; a=\"\u{1}\"",
    ])
    func rejects(text: String) {
        #expect(MediaType(parsing: text) == nil)
    }

    @Test("recognises the plain form type without parsing, and only that", arguments: [
        ("application/x-www-form-urlencoded", true), ("Application/X-WWW-Form-URLEncoded", true),
        ("application/x-www-form-urlencoded; charset=utf-8", false), ("application/x-www-form-urlencodee", false),
        ("application/x-www-form-urlencode", false), (" application/x-www-form-urlencoded", false), ("", false),
        ("application/x-www-form-urlencodéd", false),
    ])
    func plainFormFastPath(text: String, expected: Bool) {
        #expect(MediaType.isPlainFormURLEncoded(text) == expected)
        // Whatever the fast path accepts, the parser reads as the same type.
        if expected { #expect(MediaType(parsing: text)?.matches(type: "application", subtype: "x-www-form-urlencoded") == true) }
    }
}
