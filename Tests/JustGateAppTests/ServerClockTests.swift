import Foundation
import JustGateHTTP
import JustGateReactor
import JustGateServer
import Testing

/// The server's connection deadlines run on the clock it is given (`ServerConfiguration.clock`), so a test of
/// a timeout moves time instead of sleeping through it.
@Suite struct ServerClockTests {
    final class Answering: HTTPHandler {
        func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
            responder.respond(HTTPResponse(status: 200, headers: [], body: Array("ok".utf8)))
        }

        /// The clock test records nothing.
        func serverAnswered(_ answer: ServerAnswer) {}
    }

    @Test func anIdleConnectionClosesWhenTheInjectedClockPassesItsTimeout() throws {
        let manual = ManualClock()
        let loopback = try #require(SocketAddress(host: "127.0.0.1", port: 0))
        // A minute of idle time: on the system clock this connection would outlive the test.
        var configuration = ServerConfiguration(address: loopback, workers: 1, idleTimeoutMs: 60_000)
        configuration.clock = manual.clock
        let server = HTTPServer(configuration: configuration) { _ in Answering() }
        let port = try server.start().port
        defer { server.stop() }
        let client = try RawHTTPClient(port: port, timeoutSeconds: 5)
        #expect(try client.exchange("GET / HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        manual.advance(byMilliseconds: 60_001)
        // The next sweep (a tenth of a second of real time) finds the deadline passed.
        #expect(client.isClosedByPeer())
    }
}
