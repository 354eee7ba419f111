import Foundation
import JustGateCore
import Testing

/// `server.trusted_proxies` through real sockets: a peer on 127.0.0.2 plays the proxy in front, one on
/// 127.0.0.1 a client that reaches the gateway directly. The audit record and the request log line name the
/// client the trusted proxy forwarded for, and the spoofed header of the direct client is ignored.
@Suite(.serialized)
struct ClientAddressGatewayTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"

    /// Sends one request from `source` with the given `X-Forwarded-For` lines; `key: nil` sends none (a 401).
    func send(_ gateway: GatewayFixture, from source: String, requestID: String, forwardedFor: [String],
              key: String? = GatewayFixture.horoscopeKey, body: String = "") throws -> RawHTTPClient.Response {
        var raw = body.isEmpty ? "GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\n"
            : "POST /api/user/v1/subscription/subscribe/sms HTTP/1.1\r\n"
        raw += "Host: localhost\r\nX-Request-Id: \(requestID)\r\n"
        if let key { raw += "X-AUTH-TOKEN: \(key)\r\n" }
        for value in forwardedFor { raw += "X-Forwarded-For: \(value)\r\n" }
        if !body.isEmpty {
            raw += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n"
        }
        return try RawHTTPClient(port: gateway.port, source: source).exchange(raw + "\r\n" + body)
    }

    /// The `client` of the audit record and of the request log line of `requestID`.
    func clients(_ gateway: GatewayFixture, _ requestID: String) throws -> (audit: String?, log: String?) {
        let id = "\"request_id\":\"\(requestID)\""
        let auditLine = Polling.read(timeoutSeconds: 5, until: { $0.contains(id) }, gateway.auditText)
            .split(separator: "\n").first { $0.contains(id) }
        let logLine = gateway.logText(containing: id).split(separator: "\n").first { $0.contains(id) && $0.contains("\"client\"") }
        func client(_ line: Substring?) throws -> String? {
            guard let line else { return nil }
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return object?["client"] as? String
        }
        return (try client(auditLine), try client(logLine))
    }

    @Test func theClientIsTakenFromTrustedProxiesOnly() throws {
        let gateway = try GatewayFixture(serverYAML: "  trusted_proxies: [127.0.0.2, \"10.9.0.0/16\"]")
        // Through the proxy: the right-most untrusted entry, past a trusted second tier; the left part is ignored.
        let proxied = try send(gateway, from: "127.0.0.2", requestID: "via-proxy",
                               forwardedFor: ["198.51.100.1, 203.0.113.5", "10.9.1.1"])
        #expect(proxied.status != 401)  // the sandbox does not know the juid: 404
        #expect(try clients(gateway, "via-proxy") == ("203.0.113.5", "203.0.113.5"))

        // Straight to the gateway: the header is a spoof, the peer is the client.
        let direct = try send(gateway, from: "127.0.0.1", requestID: "direct", forwardedFor: ["203.0.113.9"])
        #expect(direct.status != 401)
        #expect(try clients(gateway, "direct") == ("127.0.0.1", "127.0.0.1"))

        // A malformed entry from the proxy: the proxy itself, never the part left of it.
        _ = try send(gateway, from: "127.0.0.2", requestID: "garbled", forwardedFor: ["203.0.113.5, unknown"])
        #expect(try clients(gateway, "garbled") == ("127.0.0.2", "127.0.0.2"))

        // Refused from the head alone (no key, a body announced): the same client in its record.
        let refused = try send(gateway, from: "127.0.0.2", requestID: "refused", forwardedFor: ["203.0.113.7"], key: nil,
                               body: "juid=\(juid)&number=79123456789")
        #expect(refused.status == 401)
        // An unauthenticated request never keeps the id it sent: its record is under the id it was answered with.
        let answeredID = try #require(refused.header("X-Request-Id"))
        #expect(answeredID != "refused")
        #expect(try clients(gateway, answeredID) == ("203.0.113.7", "203.0.113.7"))
    }

    @Test func withoutTrustedProxiesTheHeaderIsIgnored() throws {
        let gateway = try GatewayFixture()
        _ = try send(gateway, from: "127.0.0.2", requestID: "untrusted", forwardedFor: ["203.0.113.5"])
        #expect(try clients(gateway, "untrusted") == ("127.0.0.2", "127.0.0.2"))
    }
}
