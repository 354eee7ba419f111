import JustGateTestSupport
import JustGateHTTP
import Testing

@Suite("Malformed and smuggling requests")
struct MalformedRequestTests {
    @Test("corpus has at least 40 cases with unique names")
    func corpusSize() {
        #expect(MalformedRequestCorpus.cases.count >= 40)
        #expect(Set(MalformedRequestCorpus.cases.map(\.name)).count == MalformedRequestCorpus.cases.count)
    }

    @Test("whole buffer is rejected with the expected status", arguments: MalformedRequestCorpus.cases)
    func wholeBuffer(name: String, raw: String, status: Int) {
        let result = Feed.head(raw)
        #expect(Feed.status(result) == status, "\(name)")
    }

    @Test("byte-at-a-time feeding is rejected with the same status", arguments: MalformedRequestCorpus.cases)
    func byteAtATime(name: String, raw: String, status: Int) {
        let (result, _) = Feed.headByteAtATime(raw)
        #expect(Feed.status(result) == status, "\(name)")
    }

    @Test("an endless request line is refused before its CRLF arrives")
    func endlessRequestLine() {
        let raw = "GET /" + String(repeating: "a", count: 100)
        let limits = HTTPLimits(maxRequestLineBytes: 50)
        let (result, prefix) = Feed.headByteAtATime(raw, limits: limits)
        #expect(Feed.status(result) == 414)
        #expect(prefix == 51)
    }

    @Test("an endless header line is refused before its CRLF arrives")
    func endlessHeaderLine() {
        let raw = "GET / HTTP/1.1\r\nX-A: " + String(repeating: "a", count: 100)
        let limits = HTTPLimits(maxHeaderLineBytes: 30)
        let (result, prefix) = Feed.headByteAtATime(raw, limits: limits)
        #expect(Feed.status(result) == 431)
        #expect(prefix == 16 + 31)
    }

    @Test("a header section that never ends is refused by the total limit")
    func endlessHeaderSection() {
        let raw = "GET / HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: 50)
        let limits = HTTPLimits(maxHeaderBytes: 100, maxHeaderCount: 1000)
        #expect(Feed.status(Feed.head(raw, limits: limits)) == 431)
    }

    @Test("limits are inclusive: exactly at the limit passes, one more fails")
    func limitBoundaries() throws {
        let line = "GET /abcd HTTP/1.1"  // 18 bytes
        let atLimit = HTTPLimits(maxRequestLineBytes: 18)
        #expect(Feed.status(Feed.head(line + "\r\nHost: a\r\n\r\n", limits: atLimit)) == nil)
        let below = HTTPLimits(maxRequestLineBytes: 17)
        #expect(Feed.status(Feed.head(line + "\r\nHost: a\r\n\r\n", limits: below)) == 414)

        let twoHeaders = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n"
        #expect(Feed.status(Feed.head(twoHeaders, limits: HTTPLimits(maxHeaderCount: 2))) == nil)
        #expect(Feed.status(Feed.head(twoHeaders, limits: HTTPLimits(maxHeaderCount: 1))) == 431)
        // "Host: a\r\n" + "X-A: b\r\n" = 9 + 8 bytes
        #expect(Feed.status(Feed.head(twoHeaders, limits: HTTPLimits(maxHeaderBytes: 17))) == nil)
        #expect(Feed.status(Feed.head(twoHeaders, limits: HTTPLimits(maxHeaderBytes: 16))) == 431)
        #expect(Feed.status(Feed.head(twoHeaders, limits: HTTPLimits(maxHeaderLineBytes: 7))) == nil)
        #expect(Feed.status(Feed.head(twoHeaders, limits: HTTPLimits(maxHeaderLineBytes: 6))) == 431)

        let body = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
        #expect(Feed.status(Feed.head(body, limits: HTTPLimits(maxBodyBytes: 10))) == nil)
        #expect(Feed.status(Feed.head(body, limits: HTTPLimits(maxBodyBytes: 9))) == 413)
    }

    @Test("errors carry a reason for the client")
    func reasons() throws {
        let result = Feed.head("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
        guard case .failure(let error) = result else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.reason.contains("Content-Length"))
        #expect(error.description.hasPrefix("400: "))
    }
}
