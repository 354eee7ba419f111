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
        let longTags = (0..<300).map { "tag\($0)" }.joined(separator: ",")  // a body well over 1 KiB
        let longAccept = "application/json;q=0.9, text/plain;q=0.8, " + String(repeating: "x", count: 180) + "/*"
        let calls: [(tags: String, accept: String?)] = [
            ("a,b", longAccept), (longTags, nil), ("c", "text/plain"), (longTags, longAccept), ("d", nil),
        ]
        for call in calls {
            let body = "juid=\(juid)&tags=\(call.tags)&label=login"
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
            #expect(headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(headers["user-agent"]?.hasPrefix("justgate/") == true)
            #expect(headers["expect"] == nil)
            #expect(headers["x-request-id"]?.count == 32)
            requestIDs.insert(headers["x-request-id"] ?? "")
            let fields = String(decoding: request.body, as: UTF8.self)
            #expect(fields == "juid=\(juid)&tags=\(call.tags.replacingOccurrences(of: ",", with: "%2C"))&label=login")
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
}
