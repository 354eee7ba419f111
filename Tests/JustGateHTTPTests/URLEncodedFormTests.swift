import JustGateHTTP
import Testing

@Suite("application/x-www-form-urlencoded")
struct URLEncodedFormTests {
    static let valid: [(input: String, fields: [[String]])] = [
        ("", []),
        ("a=1&b=2", [["a", "1"], ["b", "2"]]),
        ("name=Ivan+Petrov&city=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0", [["name", "Ivan Petrov"], ["city", "Москва"]]),
        ("a=%2B%26%3D%25", [["a", "+&=%"]]),
        ("&&a=1&&b=&", [["a", "1"], ["b", ""]]),
        ("flag", [["flag", ""]]),
        ("=value", [["", "value"]]),
        ("a=1&a=2&a=3", [["a", "1"], ["a", "2"], ["a", "3"]]),
        ("a=b=c", [["a", "b=c"]]),
        ("phone%5B%5D=1&phone[]=2", [["phone[]", "1"], ["phone[]", "2"]]),
        ("emoji=%F0%9F%98%80&lower=%c3%a9", [["emoji", "😀"], ["lower", "é"]]),
    ]

    @Test("decodes fields in order", arguments: valid)
    func decodes(input: String, fields: [[String]]) throws {
        #expect(pairs(try URLEncodedForm.decode(input)) == fields)
        #expect(pairs(try Feed.urlencoded(Array(input.utf8)).get()) == fields)
    }

    static let invalid: [String] = ["a=%", "a=%4", "a=%zz", "%G0=1", "a=%FF", "a=%C3%28", "a=%ED%A0%80"]

    @Test("invalid escapes or UTF-8 are rejected with 400", arguments: invalid)
    func rejects(input: String) {
        #expect(throws: FormDecodingError.self) { try URLEncodedForm.decode(input) }
        do {
            _ = try URLEncodedForm.decode(input)
        } catch {
            #expect(error.status == 400)
        }
    }

    @Test("raw invalid UTF-8 bytes are rejected")
    func rawInvalidUTF8() {
        let result = Feed.urlencoded([0x61, 0x3D, 0xC3])
        guard case .failure(let error) = result else {
            Issue.record("expected failure")
            return
        }
        #expect(error.status == 400)
    }

    @Test("encodes like a browser")
    func encodes() {
        let encoded = URLEncodedForm.encode([("a b", "x&y=z"), ("ключ", "*-._~!"), ("empty", ""), ("+", "%")])
        #expect(encoded == "a+b=x%26y%3Dz&%D0%BA%D0%BB%D1%8E%D1%87=*-._%7E%21&empty=&%2B=%25")
        #expect(URLEncodedForm.encode([]) == "")
    }

    @Test("encoding fields read by index gives the same bytes as encoding the pairs")
    func encodesByIndex() {
        let fields = [("a b", "x&y=z"), ("ключ", "*-._~!"), ("empty", "")]
        #expect(URLEncodedForm.encodedBytes(count: fields.count) { (name: fields[$0].0, value: fields[$0].1) }
            == URLEncodedForm.encodedBytes(fields.map { (name: $0.0, value: $0.1) }))
        #expect(URLEncodedForm.encodedBytes(count: 0) { _ in ("", "") } == [])
    }

    @Test("decoding stops after maxFields + 1 pairs, escapes or not")
    func decodingStopsAfterTheLimit() throws {
        let decoded = try URLEncodedForm.decode("a=1&b=%32&c=3+3&d=4", maxFields: 1)
        #expect(pairs(decoded) == pairs([("a", "1"), ("b", "2")]))
        let long = String(repeating: "%41+", count: 2000)
        #expect(pairs(try URLEncodedForm.decode("x=" + long)) == pairs([("x", String(repeating: "A ", count: 2000))]))
    }

    @Test("encode then decode is the identity")
    func roundTrip() throws {
        let fields = [("name", "Анна-Мария O'Neil"), ("note", "line1\r\nline2 +100%"), ("x", "")]
        let decoded = try URLEncodedForm.decode(URLEncodedForm.encode(fields))
        #expect(pairs(decoded) == pairs(fields))
    }

    @Test("path decoding keeps '+' and rejects invalid escapes")
    func pathDecoding() {
        #expect(URLEncodedForm.percentDecodePath("/a%20b+c") == "/a b+c")
        #expect(URLEncodedForm.percentDecodePath("/%D0%BF%D1%83%D1%82%D1%8C"[...]) == "/путь")
        #expect(URLEncodedForm.percentDecodePath("/plain") == "/plain")
        #expect(URLEncodedForm.percentDecodePath("/a%2") == nil)
        #expect(URLEncodedForm.percentDecodePath("/a%") == nil)
        #expect(URLEncodedForm.percentDecodePath("/%C3%28") == nil)
        #expect(URLEncodedForm.percentDecodePath("/%2F") == "//")
        // A slice of a longer head, as the parser hands it over, decodes the same.
        let line = "GET /a%20b/plain%2Fx HTTP/1.1"
        let slice = line.dropFirst(4).prefix(16)
        #expect(URLEncodedForm.percentDecodePath(slice) == "/a b/plain/x")
        #expect(URLEncodedForm.percentDecodePath(line.dropFirst(4).prefix(2)) == "/a")
        #expect(URLEncodedForm.percentDecodePath(line.dropFirst(4).prefix(4)) == nil)
    }
}
