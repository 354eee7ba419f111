import Foundation
import Testing

/// What libcurl actually sends upstream, read off the wire: the header list and the body are
/// laid out in buffers each transfer reuses, so successive calls of different sizes on the same
/// handles must each arrive whole and exact.
@Suite(.serialized)
struct UpstreamWireTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"

    @Test func successiveCallsOfDifferentSizesArriveExactly() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)")
        // Tags fit the upstream's 255 characters; 255 Cyrillic letters of article, percent-encoded, make the
        // body well over 1 KiB.
        let longTags = (0..<40).map { "tag\($0)" }.joined(separator: ",")
        let longArticle = String(repeating: "ж", count: 255)
        let longAccept = "application/json;q=0.9, text/plain;q=0.8, " + String(repeating: "x", count: 180) + "/*"
        let calls: [(tags: String, accept: String?, article: String?)] = [
            ("a,b", longAccept, nil), (longTags, nil, longArticle), ("c", "text/plain", nil), (longTags, longAccept, longArticle),
            ("d", nil, nil),
        ]
        for call in calls {
            let article = call.article.map { "&article=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") } ?? ""
            let body = "juid=\(juid)&tags=\(call.tags)&label=login" + article
            let response = try gateway.send("POST", "/api/user/v1/action/", contentType: "application/x-www-form-urlencoded",
                                            body: body, headers: call.accept.map { ["Accept: \($0)"] } ?? [])
            #expect(response.status == 200, "\(response.text)")
        }
        let received = upstream.requests
        try #require(received.count == calls.count)
        var requestIDs: Set<String> = []
        for (call, request) in zip(calls, received) {
            let headers = request.headers
            #expect(request.head.hasPrefix("POST /api/user/v1/action/ HTTP/1.1\r\n"))
            #expect(headers["x-auth-token"] == GatewayFixture.horoscopeToken)
            #expect(headers["accept"] == (call.accept ?? "*/*"))
            // `*/*` is libcurl's own default, left out of the list (see `HeaderList`): one Accept line either way.
            #expect(request.head.lowercased().components(separatedBy: "\r\naccept:").count == 2)
            #expect(headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(headers["user-agent"]?.hasPrefix("justgate/") == true)
            #expect(headers["expect"] == nil)
            #expect(headers["x-request-id"]?.count == 32)
            requestIDs.insert(headers["x-request-id"] ?? "")
            let fields = String(decoding: request.body, as: UTF8.self)
            let start = "juid=\(juid)&tags=\(call.tags.replacingOccurrences(of: ",", with: "%2C"))&label=login"
            #expect(call.article == nil ? fields == start : fields.hasPrefix(start + "&article=") && request.body.count > 1024)
            #expect(headers["content-length"] == String(request.body.count))
        }
        #expect(requestIDs.count == calls.count)
    }

    @Test func getCallsAfterPostsCarryNoBody() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)")
        for _ in 0..<3 {
            let post = try gateway.send("POST", "/api/user/v1/action/", contentType: "application/x-www-form-urlencoded",
                                        body: "juid=\(juid)&tags=a&label=login")
            #expect(post.status == 200)
            let get = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
            #expect(get.status == 200)
        }
        let gets = upstream.requests.filter { $0.head.hasPrefix("GET ") }
        #expect(gets.count == 3)
        for request in gets {
            #expect(request.head.hasPrefix("GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\n"))
            #expect(request.body.isEmpty)
            #expect(request.headers["content-length"] == nil && request.headers["content-type"] == nil)
        }
    }

    /// Each handle keeps its upstream URL parsed (CURLOPT_CURLU) and only sets path and query per call:
    /// calls of different operations, paths, path parameters and queries, with and without a query, on the
    /// same few handles, must each arrive with exactly their own request line, under the base URL's path.
    @Test func everyCallCarriesItsOwnPathAndQueryUnderTheBasePath() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)/prefix/v2")
        let form = "application/x-www-form-urlencoded"
        let utm = "data=" + "{\"email\":\"a@b.co\",\"refid\":\"r\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let calls: [(method: String, target: String, body: String?, expected: String)] = [
            ("GET", "/api/user/v1/info/segment/?juid=\(juid)", nil, "GET /prefix/v2/api/user/v1/info/segment/?juid=\(juid)"),
            ("POST", "/api/user/v1/action/", "juid=\(juid)&tags=a&label=login", "POST /prefix/v2/api/user/v1/action/"),
            ("GET", "/api/user/v1/info/segment/?juid=0123456789abcdef0123456789abcdef", nil,
             "GET /prefix/v2/api/user/v1/info/segment/?juid=0123456789abcdef0123456789abcdef"),
            ("PUT", "/api/user/v1/subscription/update/utm-metric/channel/sms", utm,
             "PUT /prefix/v2/api/user/v1/subscription/update/utm-metric/channel/sms"),
            ("PUT", "/api/user/v1/subscription/update/utm-metric/channel/email", utm,
             "PUT /prefix/v2/api/user/v1/subscription/update/utm-metric/channel/email"),
            ("GET", "/api/user/v1/info/stat-by-refid/channel/email?start=2000-01-01&end=2000-01-02", nil,
             "GET /prefix/v2/api/user/v1/info/stat-by-refid/channel/email?start=2000-01-01"),
            ("POST", "/api/user/v1/action/", "juid=\(juid)&tags=b&label=login", "POST /prefix/v2/api/user/v1/action/"),
        ]
        for call in calls {
            let response = try gateway.send(call.method, call.target, contentType: call.body == nil ? nil : form,
                                            body: call.body ?? "")
            #expect(response.status == 200, "\(call.target): \(response.text)")
        }
        let received = upstream.requests
        try #require(received.count == calls.count)
        for (call, request) in zip(calls, received) {
            let requestLine = request.head.components(separatedBy: "\r\n").first ?? ""
            // The stat call's dates are rewritten and encoded by the gateway: its line is checked up to them.
            if call.expected.contains("stat-by-refid") {
                #expect(requestLine.hasPrefix(call.expected) && requestLine.contains("&end=2000-01-02"))
                #expect(requestLine.hasSuffix(" HTTP/1.1"))
            } else {
                #expect(requestLine == call.expected + " HTTP/1.1")
            }
            // libcurl writes the form Content-Type itself (see `HeaderList`): once, and only with a body.
            #expect(request.headers["content-type"] == (call.body == nil ? nil : form))
            #expect(request.head.lowercased().components(separatedBy: "\r\ncontent-type:").count == (call.body == nil ? 1 : 2))
        }
    }

    /// `upstream.http_version` reaches libcurl: with 2, a plain-text upstream is spoken to in HTTP/2 at once
    /// (the connection preface, which this HTTP/1.1 upstream cannot answer: 502); by default, HTTP/1.1.
    @Test func httpVersionTwoSpeaksHTTP2ToAPlainTextUpstream() throws {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let h2 = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)", upstreamYAML: "  http_version: 2")
        let refused = try h2.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        #expect(refused.status == 502)
        #expect(upstream.requests.first?.head.hasPrefix("PRI * HTTP/2.0") == true)

        let standard = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)", upstreamYAML: "  http_version: auto")
        #expect(try standard.send("GET", "/api/user/v1/info/segment/?juid=\(juid)").status == 200)
        #expect(upstream.requests.last?.head.hasPrefix("GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1") == true)
    }

    /// The upstream drops every connection after one answer. Silently: the hang-up reaches the socket
    /// while it sits parked in the event loop (registered, unwatched), and libcurl closes it on the
    /// next call. With `Connection: close`: libcurl closes it at once, through the close-socket
    /// callback, while the loop still has it registered. Either way the next socket often gets the
    /// same descriptor number, and every call must still get through.
    @Test(arguments: [false, true])
    func upstreamThatDropsConnectionsIsReconnectedEveryTime(announcesClose: Bool) throws {
        let upstream = try CapturingUpstream(closesAfterEachAnswer: true, announcesClose: announcesClose)
        defer { upstream.stop() }
        // A socket left registered under a reused number would hang the next call: fail in 2 s, not 10.
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)", timeoutMs: 2000)
        var waited: TimeInterval = 0
        for round in 0..<20 {
            let started = Date()
            let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
            waited += Date().timeIntervalSince(started)
            #expect(response.status == 200, "round \(round): \(response.text)")
            // Let the hang-up reach the parked socket before the next call reuses or replaces it.
            usleep(5_000)
        }
        #expect(upstream.requests.count == 20)
        #expect(upstream.connectionsAccepted == 20)
        // A socket the loop stops watching by mistake is found again only by libcurl's own timers,
        // about 200 ms later, so 20 calls would take 4 s; on loopback they take a few milliseconds each.
        #expect(waited < 2, "20 calls took \(waited) s")
    }
}
