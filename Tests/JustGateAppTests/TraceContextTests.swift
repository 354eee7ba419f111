import Foundation
import Testing

/// W3C trace context through the gateway, read off the wire at a capturing upstream.
@Suite(.serialized)
struct TraceContextTests {
    static let segments = "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b"
    static let incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    /// The traceparent the upstream received for one call with `headers`, and the gateway's log.
    func forward(_ headers: [String]) throws -> (parent: String?, state: String?, log: String) {
        let upstream = try CapturingUpstream()
        defer { upstream.stop() }
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(upstream.port)")
        let response = try gateway.send("GET", Self.segments, headers: headers)
        #expect(response.status == 200)
        let received = try #require(upstream.requests.last).headers
        return (received["traceparent"], received["tracestate"], gateway.logText(containing: "trace_id"))
    }

    static func parts(_ parent: String?) -> [String] {
        (parent ?? "").split(separator: "-").map(String.init)
    }

    @Test func aValidTraceIsContinuedWithANewSpanForOurHop() throws {
        let (parent, state, log) = try forward(["traceparent: \(Self.incoming)", "tracestate: congo=t61rcWkgMzE"])
        let parts = Self.parts(parent)
        #expect(parts.count == 4)
        #expect(parts[0] == "00")
        #expect(parts[1] == "0af7651916cd43dd8448eb211c80319c")
        #expect(parts[2].count == 16 && parts[2] != "b7ad6b7169203331")
        #expect(parts[3] == "01")
        #expect(state == "congo=t61rcWkgMzE")
        #expect(log.contains("\"trace_id\":\"0af7651916cd43dd8448eb211c80319c\""))
    }

    @Test(arguments: [
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  // all-zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  // all-zero span id
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  // forbidden version
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  // uppercase hex
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",     // no flags
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
    ])
    func aBadTraceparentIsReplacedNotForwarded(bad: String) throws {
        let (parent, state, log) = try forward(["traceparent: \(bad)", "tracestate: congo=t61rcWkgMzE"])
        let parts = Self.parts(parent)
        #expect(parent != bad)
        #expect(parts.count == 4 && parts[1].count == 32 && parts[2].count == 16)
        #expect(parts[1] != "0af7651916cd43dd8448eb211c80319c")
        // A new trace has no vendor state to carry.
        #expect(state == nil)
        #expect(log.contains("\"trace_id\":\"\(parts[1])\""))
    }

    @Test func aRequestWithoutTraceStartsOneAndEachRequestGetsItsOwn() throws {
        let first = try forward([])
        let second = try forward([])
        #expect(Self.parts(first.parent).count == 4)
        #expect(Self.parts(first.parent)[1] != Self.parts(second.parent)[1])
    }

    @Test func aBadTracestateIsDroppedAndTheTraceKept() throws {
        let (parent, state, _) = try forward(["traceparent: \(Self.incoming)", "tracestate: Not A Valid=state!, ,="])
        #expect(Self.parts(parent)[1] == "0af7651916cd43dd8448eb211c80319c")
        #expect(state == nil)
    }
}
