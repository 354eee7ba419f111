#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// What an outside probe found (issue 12), each against the real server on loopback: bodies with
/// floods of fields, requests refused before their body, credentials that disagree, secrets in
/// request ids and upstream answers, odd upstream statuses, encoded slashes and broken chunk sizes.
@Suite(.serialized)
struct HardeningTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"
    let profilePath = "/api/user/v1/subscription/create/profile"
    let form = "application/x-www-form-urlencoded"

    /// `count` distinct unknown names with empty values, 8 bytes each: `a00000=&a00001=&…`.
    func distinctEmptyFields(_ count: Int) -> String {
        (0..<count).map { "a" + String(String($0, radix: 36)).leftPadded(to: 5) + "=" }.joined(separator: "&")
    }

    /// The first log line that satisfies `predicate`, waiting up to 3 s for the sink to write it.
    func waitForLog(_ gateway: GatewayFixture, _ predicate: (Substring) -> Bool) -> Substring? {
        let deadline = Date().addingTimeInterval(3)
        repeat {
            if let line = gateway.logText().split(separator: "\n").first(where: predicate) { return line }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    // MARK: - Denial of service

    @Test func aHundredThousandFieldsAreAnsweredWhileTheSameWorkerServesAnotherConnection() throws {
        // max_fields raised so the flood reaches the field check itself, which must be linear.
        let gateway = try GatewayFixture(extraYAML: "validation:\n  max_fields: 200000\n", workers: 1)
        let body = distinctEmptyFields(115_000)
        #expect(body.utf8.count < 1_048_576)
        let flood = try gateway.client()
        try flood.send("POST \(profilePath) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n"
                       + "Content-Type: \(form)\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        let started = Date()
        // The only worker is the one that has the flood: before the fix it was blocked for 51 s.
        let other = try RawHTTPClient(port: gateway.port, timeoutSeconds: 10)
        let answer = try other.exchange("GET /api/user/v1/nowhere HTTP/1.1\r\nHost: a\r\n"
                                        + "X-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
        #expect(answer.status == 404)
        #expect(Date().timeIntervalSince(started) < 10)
        let response = try flood.readResponse()
        #expect(response.status == 422)
        #expect(response.body.count < 16 * 1024)
        let json = try #require(response.json)
        let errors = try #require(json["errors"] as? [[String: Any]])
        #expect(errors.count <= 50)
        #expect(errors.count + (json["errors_truncated"] as? Int ?? 0) == 115_000)
        let logLine = try #require(waitForLog(gateway) { $0.contains("\"status\":422") })
        #expect(logLine.utf8.count < 4096)
    }

    @Test func moreFieldsThanMaxFieldsIs413BeforeAnyRule() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("POST", profilePath, contentType: form, body: distinctEmptyFields(257))
        #expect(response.status == 413)
        #expect(response.json?["type"] as? String == "urn:justgate:problem:too-many-fields")
        #expect(try gateway.send("POST", profilePath, contentType: form,
                                 body: "name=Al&" + distinctEmptyFields(255)).status == 422)
        let json = "{" + (0..<300).map { "\"k\($0)\":1" }.joined(separator: ",") + "}"
        #expect(try gateway.send("POST", profilePath, contentType: "application/json", body: json).status == 413)
        let query = (0..<300).map { "q\($0)=" }.joined(separator: "&")
        #expect(try gateway.send("GET", "/api/user/v1/info/segment/?\(query)").status == 413)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }

    @Test func aRepeatedLongUnknownNameIsOneProblemAndBigAnswersStayUnder16KiB() throws {
        let gateway = try GatewayFixture(extraYAML: "validation:\n  max_fields: 200000\n")
        let name = String(repeating: "n", count: 40)
        let repeated = try gateway.send("POST", profilePath, contentType: form,
                                        body: Array(repeating: "\(name)=x", count: 5000).joined(separator: "&"))
        #expect(repeated.status == 422)
        #expect((repeated.json?["errors"] as? [Any])?.count == 1)
        // 5,000 distinct 60-character names with control characters: the longest problems there are.
        let hostile = (0..<2000).map { "%01%02%03%04" + String(repeating: "%E2%80%AE", count: 24) + "\($0)=v" }.joined(separator: "&")
        let response = try gateway.send("POST", profilePath, contentType: form, body: hostile)
        #expect(response.status == 422)
        #expect(response.body.count < 16 * 1024)
        #expect((response.json?["errors_truncated"] as? Int ?? 0) > 0)
    }

    // MARK: - Before the body

    @Test(arguments: [
        ("no key", "POST /api/user/v1/subscription/create/profile", nil as String?, 401),
        ("unknown path", "POST /api/user/v1/nowhere", GatewayFixture.horoscopeKey, 404),
        ("wrong method", "DELETE /api/user/v1/subscription/create/profile", GatewayFixture.horoscopeKey, 405),
    ])
    func refusedHeadsGetNoContinueAndTheirBodyIsNotAwaited(name: String, requestLine: String, key: String?, status: Int) throws {
        let gateway = try GatewayFixture()
        let client = try gateway.client()
        let keyLine = key.map { "X-AUTH-TOKEN: \($0)\r\n" } ?? ""
        // A megabyte announced and never sent: the answer must come without it.
        try client.send("\(requestLine) HTTP/1.1\r\nHost: a\r\n\(keyLine)Content-Type: \(form)\r\n"
                        + "Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == status, "\(name)")
        #expect(response.header("Connection") == "close", "\(name)")
        #expect(client.isClosedByPeer(), "\(name)")
    }

    @Test func aKeylessChunkedBodyIsNotReadEither() throws {
        let gateway = try GatewayFixture()
        let client = try gateway.client()
        try client.send("POST \(profilePath) HTTP/1.1\r\nHost: a\r\nContent-Type: \(form)\r\nTransfer-Encoding: chunked\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 401)
        #expect(client.isClosedByPeer())
    }

    // MARK: - Credentials

    @Test func credentialsThatDisagreeAreRefused() throws {
        let gateway = try GatewayFixture()
        let horoscope = GatewayFixture.horoscopeKey, news = GatewayFixture.newsKey
        let twoTokens = try gateway.send("POST", profilePath, key: news, contentType: form, body: "name=Al",
                                         headers: ["X-AUTH-TOKEN: \(horoscope)"])
        #expect(twoTokens.status == 400)
        #expect(twoTokens.json?["type"] as? String == "urn:justgate:problem:ambiguous-credentials")
        let tokenAndBearer = try gateway.send("POST", profilePath, key: horoscope, contentType: form, body: "name=Al",
                                              headers: ["Authorization: Bearer \(news)"])
        #expect(tokenAndBearer.status == 400)
        #expect(tokenAndBearer.json?["type"] as? String == "urn:justgate:problem:ambiguous-credentials")
        let unknownSecond = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", key: horoscope,
                                             headers: ["X-AUTH-TOKEN: something-else"])
        #expect(unknownSecond.status == 400)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
        // The same key twice is not ambiguous.
        let same = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", key: horoscope,
                                    headers: ["Authorization: Bearer \(horoscope)"])
        #expect(same.status != 400 && same.status != 401)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().count == 1)
    }

    /// Without a valid key the id a request sent is never used, whatever it is: no answer tells an
    /// unauthenticated client whether its id was a credential (issue 21, item 6).
    @Test(arguments: [
        ("another site's key, no key", GatewayFixture.newsKey, nil as String?),
        ("an arbitrary id, no key", "order-42", nil),
        ("an upstream token, wrong key", GatewayFixture.newsToken, "not-a-key"),
        ("an arbitrary id, wrong key", "order-42", "not-a-key"),
    ])
    func aRequestThatFailsAuthenticationGetsAGeneratedId(name: String, id: String, key: String?) throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", key: key,
                                        headers: ["X-Request-Id: \(id)"])
        #expect(response.status == 401, "\(name)")
        let answered = try #require(response.header("X-Request-Id"))
        #expect(answered != id, "\(name)")
        #expect(answered.utf8.count == 32, "\(name)")
        #expect((response.json?["request_id"] as? String) == answered, "\(name)")
        #expect(gateway.logText(containing: answered).contains(answered), "\(name)")
        #expect(!gateway.logText().contains(id), "\(name)")
    }

    /// An authenticated site's id that is one of its own credentials is replaced (the site knows them, so this
    /// tells it nothing) and never written.
    @Test(arguments: [
        ("the presented key", GatewayFixture.horoscopeKey),
        ("its upstream token", GatewayFixture.horoscopeToken),
    ])
    func anIdThatIsTheSitesOwnCredentialIsReplacedAndNeverWritten(name: String, secret: String) throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)")
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)",
                                        headers: ["X-Request-Id: \(secret)"])
        #expect(response.status == 200, "\(name)")
        let id = try #require(response.header("X-Request-Id"))
        #expect(id != secret, "\(name)")
        #expect(upstream.requests.last?.headers["x-request-id"] == id, "\(name)")
        #expect(gateway.logText(containing: id).contains(id), "\(name)")
        #expect(!gateway.logText().contains(secret), "\(name)")
        #expect(!gateway.auditText().contains(secret), "\(name)")
        // An ordinary id is still kept.
        #expect(try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)",
                                 headers: ["X-Request-Id: order-42"]).header("X-Request-Id") == "order-42")
    }

    /// Another site's credential as an id gets the same answer as any id (echoed, so the answer is no oracle
    /// for guesses), but the log line, the audit record and the upstream call carry a generated id instead.
    @Test(arguments: [
        ("another site's key", GatewayFixture.newsKey),
        ("another site's upstream token", GatewayFixture.newsToken),
        ("an ordinary id", "order-42"),
    ])
    func anIdThatIsAnotherSitesCredentialIsEchoedButNeverWrittenOrForwarded(name: String, id: String) throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)")
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", headers: ["X-Request-Id: \(id)"])
        #expect(response.status == 200, "\(name)")
        #expect(response.header("X-Request-Id") == id, "\(name)")
        let forwarded = try #require(upstream.requests.last?.headers["x-request-id"])
        let isCredential = id != "order-42"
        #expect((forwarded != id) == isCredential, "\(name)")
        let log = gateway.logText(containing: forwarded)
        #expect(log.contains("\"request_id\":\"\(forwarded)\""), "\(name)")
        #expect(log.contains("\"request_id_replaced\":true") == isCredential, "\(name)")
        if isCredential {
            #expect(!log.contains(id), "\(name)")
            #expect(!gateway.auditText().contains(id), "\(name)")
        }
        // A problem answer echoes it the same way.
        let refused = try gateway.send("GET", "/api/user/v1/info/segment/?juid=nope", headers: ["X-Request-Id: \(id)"])
        #expect(refused.status == 422 && refused.header("X-Request-Id") == id, "\(name)")
        #expect((refused.json?["request_id"] as? String) == id, "\(name)")
        if isCredential { #expect(!gateway.logText().contains(id), "\(name)") }
    }

    @Test func anUpstreamAnswerEchoingTheTokenIsRedacted() throws {
        let upstream = try CapturingUpstream { request in
            (200, "you sent \(request.headers["x-auth-token"] ?? "") twice: \(request.headers["x-auth-token"] ?? "")!")
        }
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)")
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        #expect(response.status == 200)
        #expect(response.text == "you sent [redacted] twice: [redacted]!")
        #expect(waitForLog(gateway) { $0.contains("\"upstream_token_redacted\":true") } != nil)
        #expect(!gateway.logText().contains(GatewayFixture.horoscopeToken))
    }

    // MARK: - Upstream answers and paths

    @Test(arguments: [600, 999])
    func anUpstreamStatusOutsideHTTPIs502(status: Int) throws {
        let upstream = try CapturingUpstream { _ in (status, "odd") }
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)")
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        #expect(response.status == 502)
        #expect(response.header("Content-Type") == "application/problem+json")
    }

    @Test(arguments: ["/api%2Fuser%2Fv1%2Finfo%2Fsegment%2F", "/api/user/v1/info%2fsegment/"])
    func anEncodedSlashInThePathIs400(path: String) throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("GET", "\(path)?juid=\(juid)")
        #expect(response.status == 400)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }

    /// A tags list longer than the upstream stores is a 422 naming the limit, and nothing is forwarded
    /// (issue 21, item 9).
    @Test func tagsOverTheUpstreamsLimitAre422NamingTheLimit() throws {
        let gateway = try GatewayFixture()
        func save(_ tags: String) throws -> RawHTTPClient.Response {
            try gateway.send("POST", "/api/user/v1/action/", contentType: "application/x-www-form-urlencoded",
                             body: "juid=\(juid)&label=login&tags=\(tags)")
        }
        let tidied = try save((1...100).map(String.init).joined(separator: ","))
        #expect(tidied.status == 422)
        let errors = try #require(tidied.json?["errors"] as? [[String: Any]])
        #expect(errors.first?["code"] as? String == "too_long")
        #expect((errors.first?["message"] as? String)?.contains("at most 255 characters") == true)
        let sent = try save(String(repeating: "1,", count: 600))
        #expect(sent.status == 422)
        #expect(((sent.json?["errors"] as? [[String: Any]])?.first?["message"] as? String)?.contains("at most 1024 bytes") == true)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }

    @Test func utmDataWithUndocumentedMembersIsRefused() throws {
        let gateway = try GatewayFixture()
        let path = "/api/user/v1/subscription/update/utm-metric/channel/email"
        func send(_ data: String) throws -> RawHTTPClient.Response {
            try gateway.send("PUT", path, contentType: "application/json", body: "{\"data\":\(data)}")
        }
        #expect(try send("{\"email\":\"a@b.co\",\"EMAIL\":\"x@y.co\"}").status == 422)
        #expect(try send("{\"email\":\"a@b.co\",\"x\\u0001\":\"1\"}").status == 422)
        #expect(try send("{\"email\":\"a@b.co\",\"list\":[[1]]}").status == 422)
        #expect(try send("{\"refid\":\"ab\\u202ecd\"}").status == 422)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }

    // MARK: - Outside checks

    @Test func aBlankNameIs422Empty() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("POST", profilePath, contentType: form, body: "name=%20%20%09")
        #expect(response.status == 422)
        let errors = try #require(response.json?["errors"] as? [[String: Any]])
        #expect(errors.first?["code"] as? String == "empty")
        #expect(errors.first?["field"] as? String == "name")
    }

    @Test func anOverflowingChunkSizeIs400AndCloses() throws {
        let gateway = try GatewayFixture()
        let client = try gateway.client()
        try client.send("POST \(profilePath) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n"
                        + "Content-Type: \(form)\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n")
        let response = try client.readResponse()
        #expect(response.status == 400)
        #expect(client.isClosedByPeer())
    }
}

extension String {
    func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
