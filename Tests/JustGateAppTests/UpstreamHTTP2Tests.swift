#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// justgate against a real TLS upstream (Debian's nginx) that offers HTTP/2 or only HTTP/1.1:
/// which protocol the calls used and how many connections carried them, read from the upstream's
/// own log. Calls sent together are held at the upstream until all have arrived (or, for HTTP/1.1, each
/// waits 0.3 s there), so they are in flight together.
@Suite(.serialized)
struct UpstreamHTTP2Tests {
    static let juid = "de6f0132ea9e412599ae31262c45633b"

    /// Sends `count` calls on as many client connections before reading any answer, so they are all
    /// in flight at once; returns the statuses.
    static func concurrentCalls(_ gateway: GatewayFixture, count: Int) throws -> [Int] {
        let clients = try (0..<count).map { _ in try gateway.client() }
        for client in clients {
            try client.send("GET /api/user/v1/info/segment/?juid=\(juid) HTTP/1.1\r\nHost: localhost\r\n"
                            + "X-AUTH-TOKEN: \(GatewayFixture.horoscopeKey)\r\n\r\n")
        }
        return try clients.map { try $0.readResponse().status }
    }

    @Test func concurrentCallsShareOneHTTP2ConnectionPerLoop() throws {
        // nginx passes the calls to a backend that answers none until all 20 are waiting: so they are in
        // flight together by construction, not because a fixed delay outlasted a loaded machine's slowness.
        let backend = try HeldAnswersBackend(count: 20)
        defer { backend.stop() }
        let upstream = try NginxTLSUpstream(offersHTTP2: true, token: GatewayFixture.horoscopeToken, answersFrom: backend.port)
        defer { upstream.stop() }
        // HTTP/2 when offered is `http_version: auto` (the default is 1.1).
        let gateway = try GatewayFixture(upstream: "https://127.0.0.1:\(upstream.port)",
                                         upstreamYAML: "  ca_file: \(upstream.caFile)\n  http_version: auto")

        let statuses = try UpstreamHTTP2Tests.concurrentCalls(gateway, count: 20)
        #expect(statuses == Array(repeating: 200, count: 20))

        let calls = upstream.calls(count: 20)
        #expect(calls.count == 20)
        #expect(calls.allSatisfy { $0.httpProtocol == "HTTP/2.0" && $0.status == 200 }, "\(calls)")
        // The fixture runs 2 loops, each with its own libcurl multi handle: one connection each at most,
        // where a connection per call was opened before (calls that started before the first
        // connection's TLS handshake ended did not wait for it).
        let connections = Set(calls.map(\.connection))
        #expect(connections.count <= 2, "\(connections.count) upstream connections for 20 calls: \(calls)")
        // ... and the calls on one connection were in flight together (multiplexed, not one after another):
        // all 20 were waiting at the backend at once, so at least 10 were open together on one connection.
        // Calls one after another per connection would have left at most 2 waiting until the hold ran out.
        #expect(backend.mostHeld == 20, "only \(backend.mostHeld) of 20 calls were in flight together: \(calls)")
        let busiest = Dictionary(grouping: calls, by: \.connection).values.map(\.count).max() ?? 0
        #expect(busiest >= 10, "\(calls)")
    }

    @Test func upstreamWithoutHTTP2IsCalledOverHTTP11InParallel() throws {
        let upstream = try NginxTLSUpstream(offersHTTP2: false, token: GatewayFixture.horoscopeToken)
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "https://127.0.0.1:\(upstream.port)", upstreamYAML: "  ca_file: \(upstream.caFile)")

        let statuses = try UpstreamHTTP2Tests.concurrentCalls(gateway, count: 10)
        #expect(statuses == Array(repeating: 200, count: 10))

        let calls = upstream.calls(count: 10)
        #expect(calls.count == 10)
        #expect(calls.allSatisfy { $0.httpProtocol == "HTTP/1.1" && $0.status == 200 }, "\(calls)")
        // HTTP/1.1 carries one call per connection at a time: the connection limit that keeps an h2
        // upstream to one connection per loop must not hold these calls back to one per loop.
        #expect(NginxTLSUpstream.mostInFlight(calls) > 2, "\(calls)")
    }

    /// The default, `http_version: 1.1`: an upstream offering h2 is still called over HTTP/1.1, and calls
    /// in flight together get a connection each (no wait for multiplexing, no connection budget).
    @Test func byDefaultAnUpstreamOfferingHTTP2IsCalledOverHTTP11() throws {
        let upstream = try NginxTLSUpstream(offersHTTP2: true, token: GatewayFixture.horoscopeToken)
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "https://127.0.0.1:\(upstream.port)", upstreamYAML: "  ca_file: \(upstream.caFile)")

        let statuses = try UpstreamHTTP2Tests.concurrentCalls(gateway, count: 10)
        #expect(statuses == Array(repeating: 200, count: 10))

        let calls = upstream.calls(count: 10)
        #expect(calls.count == 10)
        #expect(calls.allSatisfy { $0.httpProtocol == "HTTP/1.1" && $0.status == 200 }, "\(calls)")
        #expect(NginxTLSUpstream.mostInFlight(calls) > 2, "\(calls)")
    }

    @Test func aWrongTokenIsRefusedByTheTestUpstream() throws {
        // The upstream's token check is what the two tests above rely on to know the token was injected.
        let upstream = try NginxTLSUpstream(offersHTTP2: true, token: "not-the-horoscope-token")
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "https://127.0.0.1:\(upstream.port)", upstreamYAML: "  ca_file: \(upstream.caFile)")
        let statuses = try UpstreamHTTP2Tests.concurrentCalls(gateway, count: 1)
        #expect(statuses != [200])
        #expect(upstream.calls(count: 1).map(\.status) == [401])
    }
}
