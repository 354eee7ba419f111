import JustGateHTTP
import Testing

@Suite("Response writer")
struct HTTPResponseWriterTests {
    static func written(
        _ response: HTTPResponse, keepAlive: Bool = true, extra: [HTTPHeader] = [], omitBody: Bool = false
    ) -> String {
        var out: [UInt8] = []
        HTTPResponseWriter.write(response, keepAlive: keepAlive, extraHeaders: extra, omitBody: omitBody, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("keep-alive response with body")
    func keepAlive() {
        let response = HTTPResponse(status: 200, headers: [HTTPHeader(name: "Content-Type", value: "application/json")], body: Array("{}".utf8))
        #expect(Self.written(response) == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
    }

    @Test("closing response says Connection: close after the other headers")
    func close() {
        let response = HTTPResponse(status: 400, headers: [], body: Array("bad".utf8))
        let extra = [HTTPHeader(name: "X-Request-Id", value: "r1")]
        #expect(Self.written(response, keepAlive: false, extra: extra)
            == "HTTP/1.1 400 Bad Request\r\nX-Request-Id: r1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbad")
    }

    @Test("appends to existing bytes, so several responses can share one write")
    func appends() {
        var out = Array("prefix".utf8)
        HTTPResponseWriter.write(HTTPResponse(status: 404, headers: [], body: []), keepAlive: true, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "prefixHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("204 and 304 carry no body; 204 no Content-Length")
    func bodilessStatuses() {
        #expect(Self.written(HTTPResponse(status: 204, headers: [], body: Array("x".utf8))) == "HTTP/1.1 204 No Content\r\n\r\n")
        #expect(Self.written(HTTPResponse(status: 304, headers: [], body: Array("xy".utf8)))
            == "HTTP/1.1 304 Not Modified\r\nContent-Length: 2\r\n\r\n")
    }

    @Test("HEAD keeps Content-Length but omits the body")
    func head() {
        let response = HTTPResponse(status: 200, headers: [], body: Array("hello".utf8))
        #expect(Self.written(response, omitBody: true) == "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
    }

    @Test("framing headers from handlers are ignored and CR/LF cannot split the response")
    func sanitises() {
        let response = HTTPResponse(
            status: 200,
            headers: [
                HTTPHeader(name: "Content-Length", value: "999"), HTTPHeader(name: "transfer-encoding", value: "chunked"),
                HTTPHeader(name: "Connection", value: "keep-alive"), HTTPHeader(name: "X-Echo", value: "a\r\nSet-Cookie: x=1"),
                HTTPHeader(name: "Bad Name", value: "v"), HTTPHeader(name: "", value: "v"),
            ],
            body: Array("ok".utf8))
        #expect(Self.written(response) == "HTTP/1.1 200 OK\r\nX-Echo: a  Set-Cookie: x=1\r\nContent-Length: 2\r\n\r\nok")
    }

    /// Names of a framing header's length that are not one, and clean values with tabs and UTF-8, pass whole.
    @Test("headers are copied whole unless they are framing headers or need cleaning")
    func copiesCleanHeadersWhole() {
        let response = HTTPResponse(
            status: 200,
            headers: [
                HTTPHeader(name: "Content-Lengtx", value: "1"), HTTPHeader(name: "CONNECTION", value: "close"),
                HTTPHeader(name: "Transfer-Encodinq", value: "a\tb"), HTTPHeader(name: "Connectio1", value: "Ünïcode ✓"),
                HTTPHeader(name: "X-Del", value: "a\u{7F}b\u{0}c"), HTTPHeader(name: "Bad:Name", value: "v"),
            ],
            body: [])
        #expect(Self.written(response) == "HTTP/1.1 200 OK\r\nContent-Lengtx: 1\r\nTransfer-Encodinq: a\tb\r\n"
            + "Connectio1: Ünïcode ✓\r\nX-Del: a b c\r\nContent-Length: 0\r\n\r\n")
    }

    @Test("continue response bytes")
    func continueResponse() {
        #expect(HTTPResponseWriter.continueResponse == Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
    }

    @Test("reason phrases", arguments: [
        (200, "OK"), (400, "Bad Request"), (413, "Content Too Large"), (414, "URI Too Long"),
        (422, "Unprocessable Content"), (431, "Request Header Fields Too Large"), (501, "Not Implemented"),
        (505, "HTTP Version Not Supported"), (299, "Success"), (499, "Client Error"), (599, "Server Error"),
    ])
    func reasonPhrases(status: Int, phrase: String) {
        #expect(HTTPResponseWriter.reasonPhrase(status) == phrase)
    }
}
