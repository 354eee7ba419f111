#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// Issue 21, items 4, 5 and 13 (reload): answers to HEAD carry no body on either listener, a flood of
/// silent connections cannot keep a health probe off the admin listener, and `POST /reload` refuses what a
/// browser sends. Real sockets over loopback throughout.
@Suite(.serialized)
struct AdminHardeningTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"

    func adminPort(_ gateway: GatewayFixture) throws -> Int {
        try #require(gateway.runtime.adminAddress?.port)
    }

    // MARK: - HEAD (item 5)

    @Test func aHeadAnswerOnTheAdminListenerHasNoBodyAndTheNextAnswerIsRead() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let client = try RawHTTPClient(port: try adminPort(gateway))
        try client.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try client.readResponse(bodiless: true)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "3")
        try client.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse(bodiless: true).status == 200)
        // A 405 to a HEAD (it has a text body) is bodiless too.
        try client.send("HEAD /reload HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse(bodiless: true).status == 405)
        // Had a body followed either head, this would read "ok\n…" as a status line and fail.
        let next = try client.exchange("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(next.status == 200)
        #expect(next.text == "ready\n")
    }

    @Test func aHeadAnswerOnTheSiteListenerHasNoBodyAndTheNextAnswerIsRead() throws {
        let gateway = try GatewayFixture()
        let client = try gateway.client()
        let key = GatewayFixture.horoscopeKey
        try client.send("HEAD /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(key)\r\n\r\n")
        let head = try client.readResponse(bodiless: true)
        #expect(head.status == 405)
        #expect(Int(head.header("Content-Length") ?? "0") ?? 0 > 0)
        // Had the 405's JSON followed its head, this would read that JSON as a status line and fail.
        let next = try client.exchange("GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\nHost: a\r\n"
                                       + "X-AUTH-TOKEN: \(key)\r\nX-Request-Id: after-head\r\n\r\n")
        #expect(next.header("X-Request-Id") == "after-head")
        #expect(next.status != 405)
    }

    @Test func aHeadAnsweredFromItsHeadAloneHasNoBodyEither() throws {
        let gateway = try GatewayFixture()
        let client = try gateway.client()
        // Announces a body and has no key: the screen answers 401 and closes without reading the body.
        try client.send("HEAD /api/user/v1/info/segment/ HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
        let head = try client.readResponse(bodiless: true)
        #expect(head.status == 401)
        #expect(head.header("Connection") == "close")
        #expect(try client.bytesUntilClose().isEmpty)
    }

    // MARK: - Admin starvation (item 4)

    @Test func silentConnectionsFromOneAddressCannotKeepAHealthProbeOut() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let port = try adminPort(gateway)
        let silent = try (0..<70).map { _ in try SilentConnection(port: port, from: "127.0.0.1") }
        defer { silent.forEach { $0.close() } }
        // Without eviction the 65th connection on would get 503, and so would the probe.
        for _ in 0..<3 {
            let probe = try RawHTTPClient(port: port, timeoutSeconds: 10).exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(probe.status == 200)
            #expect(probe.text == "ok\n")
        }
    }

    @Test func silentConnectionsFromManyAddressesCannotKeepAHealthProbeOut() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let port = try adminPort(gateway)
        // 14 from each of 5 addresses: under the per-peer cap, over the listener's 64 in total.
        let silent = try (0..<70).map { index in try SilentConnection(port: port, from: "127.0.0.\(2 + index % 5)") }
        defer { silent.forEach { $0.close() } }
        let probe = try RawHTTPClient(port: port, timeoutSeconds: 10).exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(probe.status == 200)
    }

    @Test func aSilentAdminConnectionIsClosedAfterTheFirstByteDeadline() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        // The deadline is 2 s; the idle timeout it replaces for a new connection is 30 s. 10 s is generous.
        let client = try RawHTTPClient(port: try adminPort(gateway), timeoutSeconds: 10)
        #expect(client.isClosedByPeer())
    }

    @Test func aRequestThatAnnouncesABodyIsAnsweredWithoutReadingIt() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let client = try RawHTTPClient(port: try adminPort(gateway), timeoutSeconds: 10)
        // The body never comes: the answer must not wait for it (the body timeout is 5 s, the read timeout 10 s).
        try client.send("POST /reload HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        let response = try client.readResponse()
        #expect(response.status == 413)
        #expect(response.text.contains("no request body"))
    }

    // MARK: - POST /reload from a browser (item 13)

    @Test func reloadRefusesWhatABrowserSendsAndAcceptsAPlainPost() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let port = try adminPort(gateway)
        func reload(_ extra: String) throws -> RawHTTPClient.Response {
            try RawHTTPClient(port: port).exchange("POST /reload HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extra)\r\n")
        }
        let browserSigns = [
            "Origin: http://127.0.0.1:\(port)\r\n",
            "Origin: https://evil.example\r\n",
            "Origin: null\r\n",
            "Sec-Fetch-Site: cross-site\r\n",
            "Sec-Fetch-Site: same-origin\r\n",
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n",
            "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 0\r\n",
            "Content-Type: Text/Plain; charset=utf-8\r\nContent-Length: 0\r\n",
            "Content-Type: text/plain\r\nContent-Length: 4\r\n\r\nabcd",
        ]
        for sign in browserSigns {
            let refused = try reload(sign)
            #expect(refused.status == 403, "\(sign)")
            #expect(refused.text.contains("curl -X POST"), "\(sign)")
        }
        // `curl -X POST http://ADMIN/reload`: no body, no Content-Length. The fixture has no config file, so the
        // reload runs and says it kept the previous config (422), which is not a refusal.
        let plain = try reload("User-Agent: curl/8.5.0\r\nAccept: */*\r\n")
        #expect(plain.status == 422)
        #expect(plain.text.contains("still serving the previous config"))
        #expect(try reload("Content-Length: 0\r\n").status == 422)
    }
}

/// A TCP connection that never sends a byte, from a chosen loopback source address.
struct SilentConnection {
    let fd: Int32

    init(port: Int, from source: String) throws {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw RawHTTPClient.ClientError(description: "socket failed") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_addr.s_addr = inet_addr(source)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        remote.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, connected == 0 else {
            let reason = errno
            Glibc.close(socketFD)
            throw RawHTTPClient.ClientError(description: "connect from \(source) to port \(port) failed: errno \(reason)")
        }
        fd = socketFD
    }

    func close() { Glibc.close(fd) }
}
