import JustGateHTTP
import Testing

@Suite("Chunked body decoder")
struct ChunkedBodyDecoderTests {
    static let valid: [(encoded: String, decoded: String)] = [
        ("0\r\n\r\n", ""),
        ("5\r\nhello\r\n0\r\n\r\n", "hello"),
        ("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"),
        ("A\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
        ("a\r\n0123456789\r\n000\r\n\r\n", "0123456789"),
        ("0005\r\nhello\r\n0\r\n\r\n", "hello"),
        ("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"),
        ("5;a;b=c;d=\"q \\\"x\\\" ;\"\r\nhello\r\n0\r\n\r\n", "hello"),
        ("5 ; a = b ;c\r\nhello\r\n0\r\n\r\n", "hello"),
        ("3\r\n\r\n\r\r\n0\r\n\r\n", "\r\n\r"),
        ("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: d e\r\n\r\n", "hello"),
    ]

    @Test("decodes in one call", arguments: valid)
    func oneCall(encoded: String, decoded: String) throws {
        let result = try Feed.chunked([Array(encoded.utf8)]).get()
        #expect(result.body == Array(decoded.utf8))
        #expect(result.consumed == encoded.utf8.count)
        #expect(result.done)
    }

    @Test("decodes the same when split at every byte position", arguments: valid)
    func everySplit(encoded: String, decoded: String) throws {
        let bytes = Array(encoded.utf8)
        for split in 0...bytes.count {
            let result = try Feed.chunked([Array(bytes[..<split]), Array(bytes[split...])]).get()
            #expect(result.body == Array(decoded.utf8), "split at \(split)")
            #expect(result.consumed == bytes.count, "split at \(split)")
            #expect(result.done, "split at \(split)")
        }
    }

    @Test("decodes the same one byte at a time", arguments: valid)
    func byteAtATime(encoded: String, decoded: String) throws {
        let result = try Feed.chunked(encoded.utf8.map { [$0] }).get()
        #expect(result.body == Array(decoded.utf8))
        #expect(result.done)
    }

    @Test("stops at the end of the message and leaves the next request unread")
    func pipelinedBytesAreNotConsumed() throws {
        let message = "4\r\nWiki\r\n0\r\n\r\n"
        let result = try Feed.chunked([Array((message + "GET / HTTP/1.1\r\n").utf8)]).get()
        #expect(result.consumed == message.utf8.count)
        #expect(result.done)
        #expect(result.body == Array("Wiki".utf8))
    }

    @Test("reports progress without done while the message is incomplete")
    func incomplete() throws {
        let result = try Feed.chunked([Array("5\r\nhel".utf8)]).get()
        #expect(result.consumed == 6)
        #expect(!result.done)
        #expect(result.body == Array("hel".utf8))
    }

    static let invalid: [(name: String, encoded: String, status: Int)] = [
        ("non-hex size", "g\r\n", 400),
        ("empty size", "\r\nhello\r\n0\r\n\r\n", 400),
        ("negative size", "-5\r\nhello\r\n", 400),
        ("0x prefix", "0x5\r\nhello\r\n", 400),
        ("plus sign", "+5\r\nhello\r\n", 400),
        ("space before size", " 5\r\nhello\r\n", 400),
        ("whitespace then line end", "5 \r\nhello\r\n", 400),
        ("bare LF after size", "5\nhello\r\n0\r\n\r\n", 400),
        ("bare CR after size", "5\rhello\r\n0\r\n\r\n", 400),
        ("data longer than size", "5\r\nhelloX\r\n0\r\n\r\n", 400),
        ("data shorter than size", "6\r\nhello\r\n0\r\n\r\n", 400),
        ("bare LF after data", "5\r\nhello\n0\r\n\r\n", 400),
        ("empty extension", "5;\r\nhello\r\n0\r\n\r\n", 400),
        ("extension without name", "5;=x\r\nhello\r\n0\r\n\r\n", 400),
        ("extension value missing", "5;a=\r\nhello\r\n0\r\n\r\n", 400),
        ("extension value not a token", "5;a=b@c\r\nhello\r\n0\r\n\r\n", 400),
        ("extension name then space then line end", "5;a \r\nhello\r\n0\r\n\r\n", 400),
        ("unterminated quoted extension", "5;a=\"x\r\nhello\r\n0\r\n\r\n", 400),
        ("control char in quoted extension", "5;a=\"\u{1}\"\r\nhello\r\n0\r\n\r\n", 400),
        ("size overflow", "FFFFFFFFFFFFFFFFFFFFFFFF\r\n", 400),
        ("size overflow, 20 digits", "10000000000000000000\r\n", 400),
        ("size just over 63 bits", "8000000000000000\r\n", 400),
        ("chunk larger than limit", "401\r\n", 413),
        ("chunks together larger than limit", "200\r\n" + String(repeating: "a", count: 512) + "\r\n201\r\n", 413),
        ("trailer with bare LF", "0\r\nX-A: b\n\r\n", 400),
        ("trailer with control char", "0\r\nX-A: \u{0}\r\n\r\n", 400),
        ("trailer obs-fold", "0\r\nX-A: b\r\n c\r\n\r\n", 400),
        ("final line with bare CR", "0\r\n\rX", 400),
        ("extension line too long", "5;a=\"" + String(repeating: "x", count: 5000) + "\"\r\nhello\r\n0\r\n\r\n", 400),
        ("trailer section too large", "0\r\n" + String(repeating: "X-A: b\r\n", count: 2000) + "\r\n", 431),
    ]

    @Test("malformed chunked bodies are rejected", arguments: invalid)
    func rejected(name: String, encoded: String, status: Int) {
        let result = Feed.chunked([Array(encoded.utf8)], maxBodyBytes: 1024)
        #expect(Feed.status(result) == status, "\(name)")
        let trickled = Feed.chunked(encoded.utf8.map { [$0] }, maxBodyBytes: 1024)
        #expect(Feed.status(trickled) == status, "\(name), byte at a time")
    }

    @Test("a body of exactly the limit is accepted")
    func exactlyAtLimit() throws {
        let encoded = "200\r\n" + String(repeating: "a", count: 512) + "\r\n200\r\n" + String(repeating: "b", count: 512) + "\r\n0\r\n\r\n"
        let result = try Feed.chunked([Array(encoded.utf8)], maxBodyBytes: 1024).get()
        #expect(result.body.count == 1024)
        #expect(result.done)
    }
}
