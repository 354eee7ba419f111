import CCurl
@testable import JustGateUpstream
import Testing

/// The connection limit a loop hands libcurl for its upstream host (see `HostConnectionBudget`).
struct HostConnectionBudgetTests {
    @Test func plainHTTPUpstreamsAreNeverLimited() {
        var budget = HostConnectionBudget()
        #expect(budget.limit(inFlight: 0, multiplexing: false) == 0)
        budget.observe(httpVersion: Int(CURL_HTTP_VERSION_2_0))
        #expect(budget.limit(inFlight: 500, multiplexing: false) == 0)
    }

    @Test func aTLSUpstreamGetsOneConnectionPer32CallsInFlightUntilItShowsHTTP11() {
        var budget = HostConnectionBudget()
        #expect(budget.limit(inFlight: 0, multiplexing: true) == 1)
        #expect(budget.limit(inFlight: 31, multiplexing: true) == 1)
        #expect(budget.limit(inFlight: 32, multiplexing: true) == 2)
        #expect(budget.limit(inFlight: 250, multiplexing: true) == 8)
        budget.observe(httpVersion: Int(CURL_HTTP_VERSION_2_0))
        #expect(budget.upstreamVersion == .http2)
        #expect(budget.limit(inFlight: 250, multiplexing: true) == 8)
        budget.observe(httpVersion: Int(CURL_HTTP_VERSION_1_1))
        #expect(budget.upstreamVersion == .http1)
        #expect(budget.limit(inFlight: 250, multiplexing: true) == 0)
        budget.observe(httpVersion: 0)  // a call that read no answer says nothing about the upstream
        #expect(budget.upstreamVersion == .http1)
        budget.observe(httpVersion: Int(CURL_HTTP_VERSION_2_0))  // an upstream that starts offering h2 is followed
        #expect(budget.limit(inFlight: 10, multiplexing: true) == 1)
    }

    @Test func theSchemeDecidesWhetherACallGoesOverTLS() {
        func request(_ url: String) -> UpstreamRequest { UpstreamRequest(method: "GET", url: url, headers: [], body: []) }
        #expect(request("https://api.example/x").isOverTLS)
        #expect(request("HTTPS://api.example/x").isOverTLS)
        #expect(!request("http://api.example/x").isOverTLS)
        #expect(!request("https").isOverTLS)
        #expect(!request("httpsx://api.example").isOverTLS)
    }
}
