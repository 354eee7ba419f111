import JustGateHTTP
import Testing

/// What a valid request must parse into.
struct ValidRequestCase: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: String
    var headLength: Int
    var method: String
    var target: String
    var path: String
    var query: String?
    var versionMinor = 1
    var keepAlive = true
    var framing = BodyFraming.none
    var expectsContinue = false
    var headers: [HTTPHeader]

    var testDescription: String { name }

    static let all: [ValidRequestCase] = [
        ValidRequestCase(
            name: "GET with query", raw: "GET /api/x/?juid=1&a=b HTTP/1.1\r\nHost: gate.local\r\nAccept: */*\r\n\r\n",
            headLength: 66, method: "GET", target: "/api/x/?juid=1&a=b", path: "/api/x/", query: "juid=1&a=b",
            headers: [HTTPHeader(name: "Host", value: "gate.local"), HTTPHeader(name: "Accept", value: "*/*")]),
        ValidRequestCase(
            name: "POST with Content-Length and body after head",
            raw: "POST /api/profile HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nname=Alice&",
            headLength: 108, method: "POST", target: "/api/profile", path: "/api/profile", framing: .contentLength(11),
            headers: [
                HTTPHeader(name: "Host", value: "a"),
                HTTPHeader(name: "Content-Type", value: "application/x-www-form-urlencoded"),
                HTTPHeader(name: "Content-Length", value: "11"),
            ]),
        ValidRequestCase(
            name: "chunked POST", raw: "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            headLength: 57, method: "POST", target: "/u", path: "/u", framing: .chunked,
            headers: [HTTPHeader(name: "Host", value: "a"), HTTPHeader(name: "Transfer-Encoding", value: "chunked")]),
        ValidRequestCase(
            name: "chunked spelled in capitals with empty list elements",
            raw: "POST /u HTTP/1.1\r\nHost: a\r\ntransfer-encoding: , CHUNKED\r\n\r\n",
            headLength: 59, method: "POST", target: "/u", path: "/u", framing: .chunked,
            headers: [HTTPHeader(name: "Host", value: "a"), HTTPHeader(name: "transfer-encoding", value: ", CHUNKED")]),
        ValidRequestCase(
            name: "HTTP/1.0 without Host closes by default", raw: "GET / HTTP/1.0\r\n\r\n",
            headLength: 18, method: "GET", target: "/", path: "/", versionMinor: 0, keepAlive: false, headers: []),
        ValidRequestCase(
            name: "HTTP/1.0 keep-alive", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
            headLength: 42, method: "GET", target: "/", path: "/", versionMinor: 0, keepAlive: true,
            headers: [HTTPHeader(name: "Connection", value: "Keep-Alive")]),
        ValidRequestCase(
            name: "HTTP/1.1 Connection close among options", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n",
            headLength: 58, method: "GET", target: "/", path: "/", keepAlive: false,
            headers: [HTTPHeader(name: "Host", value: "a"), HTTPHeader(name: "Connection", value: "keep-alive, Close")]),
        ValidRequestCase(
            name: "HTTP/1.7 is served as 1.1", raw: "DELETE /x HTTP/1.7\r\nHost: a\r\n\r\n",
            headLength: 31, method: "DELETE", target: "/x", path: "/x",
            headers: [HTTPHeader(name: "Host", value: "a")]),
        ValidRequestCase(
            name: "Expect 100-continue", raw: "PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n",
            headLength: 69, method: "PUT", target: "/x", path: "/x", framing: .contentLength(3), expectsContinue: true,
            headers: [
                HTTPHeader(name: "Host", value: "a"), HTTPHeader(name: "Expect", value: "100-Continue"),
                HTTPHeader(name: "Content-Length", value: "3"),
            ]),
        ValidRequestCase(
            name: "Expect ignored on HTTP/1.0", raw: "PUT /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
            headLength: 60, method: "PUT", target: "/x", path: "/x", versionMinor: 0, keepAlive: false,
            framing: .contentLength(0),
            headers: [HTTPHeader(name: "Expect", value: "100-continue"), HTTPHeader(name: "Content-Length", value: "0")]),
        ValidRequestCase(
            name: "two leading empty lines are skipped", raw: "\r\n\r\nGET /a? HTTP/1.1\r\nHost: a\r\n\r\n",
            headLength: 33, method: "GET", target: "/a?", path: "/a", query: "",
            headers: [HTTPHeader(name: "Host", value: "a")]),
        ValidRequestCase(
            name: "the path ends at the first '?', later ones belong to the query",
            raw: "GET /a/b?c=d?e&f=? HTTP/1.1\r\nHost: a\r\n\r\n",
            headLength: 40, method: "GET", target: "/a/b?c=d?e&f=?", path: "/a/b", query: "c=d?e&f=?",
            headers: [HTTPHeader(name: "Host", value: "a")]),
        ValidRequestCase(
            name: "identical repeated Content-Length accepted",
            raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\ncontent-length: 7\r\n\r\n",
            headLength: 68, method: "POST", target: "/", path: "/", framing: .contentLength(7),
            headers: [
                HTTPHeader(name: "Host", value: "a"), HTTPHeader(name: "Content-Length", value: "007"),
                HTTPHeader(name: "content-length", value: "7"),
            ]),
        ValidRequestCase(
            name: "values are OWS-trimmed, names keep case, UTF-8 values kept",
            raw: "GET /%D0%BF?q=%20 HTTP/1.1\r\nhost:a\r\nX-Name: \t Привет мир \t\r\nX-Empty:\r\nX-Tab: a\tb\r\n\r\n",
            headLength: 93, method: "GET", target: "/%D0%BF?q=%20", path: "/%D0%BF", query: "q=%20",
            headers: [
                HTTPHeader(name: "host", value: "a"), HTTPHeader(name: "X-Name", value: "Привет мир"),
                HTTPHeader(name: "X-Empty", value: ""), HTTPHeader(name: "X-Tab", value: "a\tb"),
            ]),
        ValidRequestCase(
            name: "extension method and token characters in names",
            raw: "M-SEARCH /a/b;c=d HTTP/1.1\r\nHost: a\r\nX!#$%&'*+-.^_`|~1: v\r\n\r\n",
            headLength: 61, method: "M-SEARCH", target: "/a/b;c=d", path: "/a/b;c=d",
            headers: [HTTPHeader(name: "Host", value: "a"), HTTPHeader(name: "X!#$%&'*+-.^_`|~1", value: "v")]),
    ]
}

@Suite("Request head parser")
struct RequestHeadParserTests {
    static func check(_ parsed: (head: HTTPRequestHead, consumed: Int)?, _ expected: ValidRequestCase) {
        guard let (head, consumed) = parsed else {
            Issue.record("\(expected.name): head not complete")
            return
        }
        #expect(consumed == expected.headLength)
        #expect(head.method == expected.method)
        #expect(head.target == expected.target)
        #expect(String(head.path) == expected.path)
        #expect(head.query == expected.query)
        #expect(head.versionMinor == expected.versionMinor)
        #expect(head.keepAlive == expected.keepAlive)
        #expect(head.framing == expected.framing)
        #expect(head.expectsContinue == expected.expectsContinue)
        #expect(head.headers == expected.headers)
    }

    /// The path's end is found once, when the head is made; a changed target must move it.
    @Test("path and query follow the target when it is changed")
    func pathFollowsTarget() throws {
        var head = try #require(try Feed.head("GET /a?b=1 HTTP/1.1\r\nHost: a\r\n\r\n").get()).head
        #expect(head.path == "/a" && head.query == "b=1")
        head.target = "/longer/path"
        #expect(head.path == "/longer/path" && head.query == nil)
        head.target = "/x?"
        #expect(head.path == "/x" && head.query == "")
        let made = HTTPRequestHead(method: "GET", target: "/p/q?r", versionMinor: 1, headers: [], keepAlive: true,
                                   framing: .none, expectsContinue: false)
        #expect(made.path == "/p/q" && made.query == "r")
    }

    @Test("valid requests parse in one buffer", arguments: ValidRequestCase.all)
    func wholeBuffer(_ testCase: ValidRequestCase) throws {
        Self.check(try Feed.head(testCase.raw).get(), testCase)
    }

    @Test("byte-at-a-time feeding gives the same head at exactly the end of the head", arguments: ValidRequestCase.all)
    func byteAtATime(_ testCase: ValidRequestCase) throws {
        let (result, prefix) = Feed.headByteAtATime(testCase.raw)
        Self.check(try result.get(), testCase)
        #expect(prefix == testCase.headLength)
    }

    @Test("header lookup is case-insensitive and keeps order")
    func lookup() throws {
        let raw = "GET / HTTP/1.1\r\nHost: a\r\nX-Id: 1\r\nx-id: 2\r\n\r\n"
        let head = try #require(try Feed.head(raw).get()).head
        #expect(head.value(for: "X-ID") == "1")
        #expect(head.values(for: "x-Id") == ["1", "2"])
        #expect(head.value(for: "Missing") == nil)
        #expect(head.values(for: "Missing").isEmpty)
    }

    @Test("two pipelined requests in one buffer")
    func pipelined() throws {
        let first = "POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n"
        let second = "GET /two?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        let bytes = Array((first + "abc" + second).utf8)
        var parser = HTTPRequestHeadParser(limits: HTTPLimits())
        let one = try #require(try Feed.head(bytes, parser: &parser).get())
        #expect(one.consumed == first.utf8.count)
        #expect(one.head.target == "/one")
        #expect(one.head.framing == .contentLength(3))
        // The server skips the 3 body bytes and hands the rest over as the next request's buffer.
        let rest = Array(bytes[(one.consumed + 3)...])
        let two = try #require(try Feed.head(rest, parser: &parser).get())
        #expect(two.consumed == second.utf8.count)
        #expect(two.head.target == "/two?x=1")
        #expect(two.head.keepAlive == false)
    }

    @Test("incomplete heads return nil, including a CR waiting for its LF")
    func incomplete() throws {
        for raw in ["", "G", "GET / HTTP/1.1", "GET / HTTP/1.1\r", "GET / HTTP/1.1\r\nHost: a\r\n", "GET / HTTP/1.1\r\nHost: a\r\n\r"] {
            let result = try Feed.head(raw).get()
            #expect(result == nil, "\(raw.debugDescription)")
        }
    }

    @Test("reset forgets progress so the parser can start on an unrelated buffer")
    func resetForgetsProgress() throws {
        var parser = HTTPRequestHeadParser(limits: HTTPLimits())
        #expect(try Feed.head(Array("GET /first HTTP/1.1\r\nHo".utf8), parser: &parser).get() == nil)
        parser.reset()
        let parsed = try #require(try Feed.head(Array("GET /second HTTP/1.1\r\nHost: a\r\n\r\n".utf8), parser: &parser).get())
        #expect(parsed.head.target == "/second")
    }
}
