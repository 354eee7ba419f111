#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// The libcurl side against real peers: TLS with a private CA the test creates (verification is
/// always on), and the response size cap.
@Suite(.serialized)
struct UpstreamClientTests {
    let juid = "de6f0132ea9e412599ae31262c45633b"

    @Test func tlsUpstreamIsTrustedOnlyThroughTheConfiguredCA() throws {
        let tls = try TLSTestServer()
        defer { tls.stop() }
        let trusted = try GatewayFixture(upstream: "https://127.0.0.1:\(tls.port)", upstreamYAML: "  ca_file: \(tls.caFile)")
        let answer = try trusted.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer.text.contains("s_server"))  // openssl s_server -www's status page came back over TLS

        let untrusted = try GatewayFixture(upstream: "https://127.0.0.1:\(tls.port)")
        let refused = try untrusted.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        #expect(refused.status == 502)
        #expect(refused.header("Content-Type") == "application/problem+json")
    }

    @Test func upstreamAnswersOverTheLimitBecome502() throws {
        let gateway = try GatewayFixture(upstreamYAML: "  max_response_bytes: 16")
        let response = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                        contentType: "application/x-www-form-urlencoded", body: "name=Bob")
        #expect(response.status == 502)  // the sandbox answers a 32-character juid
        #expect((response.json?["detail"] as? String)?.contains("16 bytes") == true)
    }
}

/// `openssl s_server -www` with a throwaway CA and a certificate for 127.0.0.1, made per test.
final class TLSTestServer {
    let directory: String
    let process: ChildProcess
    let port: Int
    var caFile: String { directory + "/ca.pem" }

    init() throws {
        directory = NSTemporaryDirectory() + "justgate-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try TestCertificates.make(in: directory)
        // s_server block-buffers its "ACCEPT" line when stdout is a pipe, so pick the port here and
        // poll until it accepts instead of reading it back.
        let chosen = try ClosedPort.make()
        process = try ChildProcess("/usr/bin/openssl",
                                   ["s_server", "-accept", "127.0.0.1:\(chosen)", "-cert", "server.pem", "-key", "server.key",
                                    "-www", "-naccept", "50", "-quiet"],
                                   directory: directory)
        try process.waitUntilAccepting(port: chosen) { "openssl s_server did not start on port \(chosen)" }
        port = chosen
    }

    func stop() {
        // s_server does not always exit on SIGTERM while it waits in accept; SIGKILL is certain.
        process.signal(SIGKILL)
        process.wait()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
