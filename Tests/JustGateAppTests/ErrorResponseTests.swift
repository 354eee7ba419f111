#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The errors justgate produces itself: each a problem+json body with a request id, the right
/// status, and nothing sent upstream.
@Suite(.serialized)
struct ErrorResponseTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"

    func expectProblem(_ response: RawHTTPClient.Response, status: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == status, "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
        let json = response.json
        #expect(json?["status"] as? Int == status, sourceLocation: sourceLocation)
        #expect((json?["type"] as? String)?.hasPrefix("urn:justgate:problem:") == true, sourceLocation: sourceLocation)
        #expect((json?["title"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        #expect((json?["detail"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(json?["request_id"] as? String == response.header("X-Request-Id"), sourceLocation: sourceLocation)
    }

    @Test func missingUnknownAndUpstreamTokenKeysAre401() throws {
        let gateway = try GatewayFixture()
        let target = "/api/user/v1/info/segment/?juid=\(juid)"
        expectProblem(try gateway.send("GET", target, key: nil), status: 401)
        expectProblem(try gateway.send("GET", target, key: "not-a-key"), status: 401)
        expectProblem(try gateway.send("GET", target, key: GatewayFixture.horoscopeToken), status: 401)
        let bearer = try gateway.send("GET", target, key: nil, headers: ["Authorization: Bearer \(GatewayFixture.newsKey)"])
        #expect(bearer.status == 404)  // authenticated; the sandbox does not know the juid
        #expect(gateway.runtime.sandbox?.api.receivedRequests().count == 1)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().last?.token == GatewayFixture.newsToken)
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithAllow() throws {
        let gateway = try GatewayFixture()
        expectProblem(try gateway.send("GET", "/api/user/v1/nothing"), status: 404)
        let wrong = try gateway.send("DELETE", "/api/user/v1/subscription/unsubscribe/email")
        expectProblem(wrong, status: 405)
        #expect(wrong.header("Allow") == "PUT, POST")
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }

    @Test func unsupportedBodyTypeIs415() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("POST", "/api/user/v1/action/", contentType: "text/xml", body: "<juid/>")
        expectProblem(response, status: 415)
    }

    @Test func oversizedBodyIs413BeforeItIsRead() throws {
        let gateway = try GatewayFixture()
        let client = try gateway.client()
        try client.send("POST /api/user/v1/action/ HTTP/1.1\r\nHost: x\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n"
                        + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 5000000\r\n\r\n")
        let response = try client.readResponse()
        expectProblem(response, status: 413)
        #expect(response.header("Connection") == "close")
    }

    @Test func everyFieldProblemIsReportedAtOnce() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("POST", "/api/user/v1/subscription/subscribe/email",
                                        contentType: "application/x-www-form-urlencoded",
                                        body: "juid=xyz&email=not-an-email&refid=&colour=blue")
        expectProblem(response, status: 422)
        let errors = try #require(response.json?["errors"] as? [[String: String]])
        let byField = Dictionary(errors.map { ($0["field"] ?? "", $0["code"] ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(byField["juid"] == "invalid_juid")
        #expect(byField["email"] == "invalid_email")
        #expect(byField["colour"] == "unknown_field")
        #expect(errors.allSatisfy { ($0["message"] ?? "").isEmpty == false })
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }

    @Test func missingRequiredFieldsAreListed() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.send("POST", "/api/user/v1/action/", contentType: "application/json", body: "{}")
        expectProblem(response, status: 422)
        let fields = (response.json?["errors"] as? [[String: String]])?.compactMap { $0["field"] }
        #expect(fields == ["juid", "tags", "label"])
    }

    @Test func upstreamDownIs502() throws {
        let port = try ClosedPort.make()
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(port)")
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        expectProblem(response, status: 502)
        #expect(!response.text.contains(GatewayFixture.horoscopeToken))
    }

    @Test func upstreamSlowIs504() throws {
        let silent = try SilentListener()
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(silent.port)", timeoutMs: 300)
        let response = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        expectProblem(response, status: 504)
        #expect(!response.text.contains(GatewayFixture.horoscopeToken))
    }

    @Test func noSiteKeyOrTokenInAnyLogLineOrErrorBody() throws {
        let gateway = try GatewayFixture()
        var bodies: [String] = []
        bodies.append(try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)").text)
        bodies.append(try gateway.send("GET", "/api/user/v1/info/segment/?juid=bad").text)
        bodies.append(try gateway.send("GET", "/nowhere").text)
        bodies.append(try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", key: GatewayFixture.horoscopeToken).text)
        bodies.append(try gateway.send("POST", "/api/user/v1/action/", contentType: "application/json",
                                       body: "{\"juid\":\"\(GatewayFixture.horoscopeKey)\"}").text)
        // The log line is written just after the answer, so give the last one a moment.
        let log = Polling.read(timeoutSeconds: 2, until: {
            $0.components(separatedBy: "\n").filter { $0.contains("\"message\":\"request\"") }.count >= 5
        }, gateway.logText)
        #expect(log.contains("\"request_id\""))
        #expect(log.components(separatedBy: "\n").filter { $0.contains("\"message\":\"request\"") }.count == 5)
        for secret in [GatewayFixture.horoscopeKey, GatewayFixture.horoscopeToken, GatewayFixture.newsToken] {
            #expect(!log.contains(secret))
            for body in bodies { #expect(!body.contains(secret)) }
        }
    }
}

/// A port that refuses connections: bound once to learn a free number, then closed.
enum ClosedPort {
    static func make() throws -> Int {
        let listener = try SilentListener()
        let port = listener.port
        listener.close()
        return port
    }
}

/// A listener that completes TCP handshakes (via the backlog) but never reads or answers.
final class SilentListener {
    let fd: Int32
    let port: Int
    private var closed = false

    /// - Parameter backlog: the accept queue's length; 0 (one connection) lets a test fill it, so a further
    ///   connect hangs.
    init(backlog: Int32 = 16) throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, length) }
        }
        guard bound == 0, listen(socketFD, backlog) == 0 else {
            _ = Glibc.close(socketFD)
            throw RawHTTPClient.ClientError(description: "listen failed")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        fd = socketFD
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        guard !closed else { return }
        closed = true
        _ = Glibc.close(fd)
    }

    deinit { close() }

    /// Starts a connect to 127.0.0.1:`port` without waiting for it to complete (to fill an accept queue).
    static func connectWithoutWaiting(port: Int) throws -> Int32 {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw RawHTTPClient.ClientError(description: "socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return socketFD
    }
}
