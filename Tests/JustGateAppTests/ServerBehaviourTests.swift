#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateTestSupport
import Testing

/// The epoll server under real sockets: strict parsing with close, pipelining, 100-continue,
/// chunked bodies, timeouts against slow clients, the connection cap, and clients that vanish.
@Suite(.serialized)
struct ServerBehaviourTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"

    @Test func everyMalformedRequestGetsItsStatusAndTheConnectionIsClosed() throws {
        let gateway = try GatewayFixture()
        #expect(MalformedRequestCorpus.cases.count >= 40)
        for testCase in MalformedRequestCorpus.cases {
            let client = try gateway.client()
            try client.send(testCase.raw)
            let response = try client.readResponse()
            #expect(response.status == testCase.status, "\(testCase.name)")
            #expect(response.header("Content-Type") == "application/problem+json", "\(testCase.name)")
            #expect(response.header("Connection") == "close", "\(testCase.name)")
            #expect(client.isClosedByPeer(), "\(testCase.name)")
        }
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }

    @Test func pipelinedRequestsAreAnsweredInOrderEachOnce() throws {
        let gateway = try GatewayFixture()
        let client = try gateway.client()
        let key = GatewayFixture.horoscopeKey
        let first = "GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(key)\r\nX-Request-Id: one\r\n\r\n"
        let second = "GET /nowhere HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(key)\r\nX-Request-Id: two\r\n\r\n"
        let third = "POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(key)\r\n"
            + "X-Request-Id: three\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nname=Al"
        try client.send(first + second + third)
        let answers = try (0..<3).map { _ in try client.readResponse() }
        #expect(answers.map { $0.header("X-Request-Id") } == ["one", "two", "three"])
        #expect(answers.map(\.status) == [404, 404, 200])
    }

    @Test func expectContinueGetsAnInterimAnswerBeforeTheBody() throws {
        let gateway = try GatewayFixture()
        let client = try gateway.client()
        let body = "name=Bob"
        try client.send("POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: a\r\n"
                        + "X-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n")
        var interim = [UInt8](repeating: 0, count: 25)
        let count = recv(client.fd, &interim, interim.count, Int32(MSG_WAITALL))
        #expect(String(decoding: interim[0..<max(0, count)], as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        try client.send(body)
        #expect(try client.readResponse().status == 200)
    }

    @Test func chunkedRequestBodiesAreDecoded() throws {
        let gateway = try GatewayFixture()
        let response = try gateway.client().exchange(
            "POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: a\r\n"
            + "X-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n4\r\nname\r\n4;ext=1\r\n=Bob\r\n0\r\n\r\n")
        #expect(response.status == 200)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().last?.form.first?.value == "Bob")
    }

    @Test func slowHeadersAreCutOffAfterTheHeaderTimeout() throws {
        let slow = try GatewayFixture(serverYAML: "  header_timeout_ms: 300\n")
        let client = try slow.client()
        let started = Date()
        try client.send("GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\nHost: a\r\n")
        let response = try client.readResponse()
        #expect(response.status == 408)
        #expect(client.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func slowBodiesAreCutOffAfterTheBodyTimeout() throws {
        let gateway = try GatewayFixture(serverYAML: "  body_timeout_ms: 300\n")
        let client = try gateway.client()
        let started = Date()
        try client.send("POST /api/user/v1/subscription/create/profile HTTP/1.1\r\nHost: a\r\n"
                        + "X-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: 20\r\n\r\nname=")
        let response = try client.readResponse()
        #expect(response.status == 408)
        #expect(client.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(gateway.runtime.sandbox?.api.receivedRequests().isEmpty == true)
    }

    @Test func idleKeepAliveConnectionsAreClosed() throws {
        let gateway = try GatewayFixture(serverYAML: "  idle_timeout_ms: 300\n")
        let client = try gateway.client()
        #expect(try client.exchange("GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n").status == 401)
        let started = Date()
        #expect(client.isClosedByPeer())
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func connectionsBeyondTheCapAreRefusedAndHeldOnesKeepWorking() throws {
        let gateway = try GatewayFixture(serverYAML: "  max_connections: 3\n")
        let held = try (0..<3).map { _ in try gateway.client() }
        for client in held { #expect(try client.exchange("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").status == 401) }
        let extra = try gateway.client()
        #expect(try extra.readResponse().status == 503)
        #expect(extra.isClosedByPeer())
        for client in held { #expect(try client.exchange("GET /x HTTP/1.1\r\nHost: a\r\n\r\n").status == 401) }
    }

    @Test func aClientThatVanishesCancelsItsUpstreamCall() throws {
        let silent = try SilentListener()
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(silent.port)", timeoutMs: 5000)
        do {
            let client = try gateway.client()
            try client.send("GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
            usleep(200_000)
        }
        // Generous: the suite runs CPU-heavy suites (Chromium, load against `serve`) in parallel on 2 cores.
        let deadline = Date().addingTimeInterval(10)
        while (!gateway.logText().contains("client_gone") || gateway.runtime.connectionCount != 0) && Date() < deadline {
            usleep(20_000)
        }
        #expect(gateway.logText().contains("\"outcome\":\"client_gone\""))
        #expect(gateway.runtime.connectionCount == 0)
    }
}
