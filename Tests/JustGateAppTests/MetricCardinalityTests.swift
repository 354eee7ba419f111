import Foundation
import JustGateApp
import JustGateCore
import JustGateUpstream
import Testing

/// Issue 21, item 3: no caller can grow the number of metric series. A thousand invented field names,
/// `data` members, paths, methods, keys and request ids go through a live gateway; then every label of every
/// `justgate_` family on `/metrics` must hold a value from the set named for it here.
@Suite(.serialized)
struct MetricCardinalityTests {
    static let juid = "de6f0132ea9e412599ae31262c45633b"
    static let invented = 1000

    /// The set that bounds each label, by label name. A label missing here fails the test: a new label must
    /// say which set bounds it.
    static let boundingSets: [String: Set<String>] = [
        // The configured sites, and `-` before a key matched.
        "site": ["-", "horoscope-daily", "news-portal"],
        // The catalogue's operations, and `-` when no path matched.
        "operation": Catalogue().ids.union(["-"]),
        // The configured policies of the fixture.
        "policy": ["two-per-hour"],
        // The catalogue's field names (with the documented `data` members), and `(unknown)` for any other.
        "field": Catalogue().operations.reduce(into: Set<String>(["(unknown)"])) { $0.formUnion($1.problemFieldNames) },
        // The published problem codes, and `(unknown)`.
        "code": Set(ProblemCode.all).union(["(unknown)"]),
        // Registered statuses (and 499, a client that left); any other status as its class.
        "status": Set(["100", "101", "200", "201", "202", "203", "204", "205", "206", "300", "301", "302", "303", "304",
                       "307", "308", "400", "401", "402", "403", "404", "405", "406", "407", "408", "409", "410", "411",
                       "412", "413", "414", "415", "416", "417", "421", "422", "426", "428", "429", "431", "499", "500",
                       "501", "502", "503", "504", "505", "1xx", "2xx", "3xx", "4xx", "5xx"]),
        // The words the pipeline and the server write: a closed enum.
        "outcome": Set(RequestOutcome.allCases.map(\.rawValue)),
        // `justgate_build_info`: one value each per binary.
        "version": [JustGateVersion.current],
        "swift": [JustGateVersion.swift],
        // Why a request got no usable upstream answer: a closed enum.
        "reason": Set(UpstreamFailureReason.allCases.map(\.rawValue)),
        // The fingerprints of the fixture's configured keys (never a key an invented request sent).
        "key": Set([GatewayFixture.horoscopeKey, GatewayFixture.newsKey].map { String(SiteKeys.sha256Hex($0).prefix(12)) }),
        "result": ["ok", "failed"],
        "state": ["closed", "open", "half_open"],
        // Histogram buckets: the fixed list in `GatewayMetrics`, and +Inf.
        "le": ["0.0005", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0",
               "10.0", "+Inf"],
    ]

    @Test func inventedNamesPathsMethodsAndIdsMakeABoundedNumberOfSeries() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0", horoscopeYAML: """
            limits:
              - { name: two-per-hour, scope: site, operations: [action.save], rate: 2/h }
            """)
        let key = GatewayFixture.horoscopeKey
        var client = try gateway.client()
        func exchange(_ raw: String) throws -> RawHTTPClient.Response {
            let response = try client.exchange(raw)
            if response.header("Connection") == "close" { client = try gateway.client() }
            return response
        }
        var statuses: [Int: Int] = [:]
        for index in 0..<Self.invented {
            let requests = [
                // An unknown field name (422 unknown_field) with an invented request id.
                "GET /api/user/v1/info/segment/?juid=\(Self.juid)&made_up_\(index)=1 HTTP/1.1\r\nHost: a\r\n"
                    + "X-AUTH-TOKEN: \(key)\r\nX-Request-Id: invented-\(index)\r\n\r\n",
                // An undocumented member of utm.update's data, and an invented channel.
                "PUT /api/user/v1/subscription/update/utm-metric/channel/ch\(index) HTTP/1.1\r\nHost: a\r\n"
                    + "X-AUTH-TOKEN: \(key)\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                    + "\(Self.dataBody(index).utf8.count)\r\n\r\n\(Self.dataBody(index))",
                // An invented path and an invented method.
                "GET /api/user/v1/invented/\(index) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(key)\r\n\r\n",
                "M\(index) /api/user/v1/info/segment/?juid=\(Self.juid) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: \(key)\r\n\r\n",
                // An invented key.
                "GET /api/user/v1/info/segment/?juid=\(Self.juid) HTTP/1.1\r\nHost: a\r\nX-AUTH-TOKEN: invented-key-\(index)\r\n\r\n",
            ]
            for raw in requests { statuses[try exchange(raw).status, default: 0] += 1 }
        }
        // Every kind was refused the way the test means it to be (not, say, all 400 before the pipeline ran).
        #expect(statuses[422, default: 0] >= 2 * Self.invented)
        #expect(statuses[404, default: 0] >= Self.invented)
        #expect(statuses[401, default: 0] == Self.invented)

        let port = try #require(gateway.runtime.adminAddress?.port)
        var samples: [PrometheusSample] = []
        let deadline = Date().addingTimeInterval(5)
        repeat {
            let text = try RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text
            samples = try PrometheusText.parse(text)
            if PrometheusText.sum(samples, "justgate_requests_total") >= Double(5 * Self.invented) { break }
            usleep(20_000)
        } while Date() < deadline
        #expect(PrometheusText.sum(samples, "justgate_requests_total") == Double(5 * Self.invented))
        #expect(PrometheusText.sum(samples, "justgate_validation_failures_total", where: ["field": "(unknown)"])
                >= Double(2 * Self.invented))

        var valuesByLabel: [String: Set<String>] = [:]
        for sample in samples where sample.name.hasPrefix("justgate_") {
            for (label, value) in sample.labels {
                valuesByLabel[label, default: []].insert(value)
                let bound = Self.boundingSets[label]
                #expect(bound != nil, "label \(label) of \(sample.name) has no bounding set named in this test")
                #expect(bound?.contains(value) != false, "\(sample.name){\(label)=\"\(value)\"} is outside its bounding set")
            }
        }
        // Bounded in practice too: a handful of series per family, not one per invented name.
        let series = Set(samples.filter { $0.name.hasPrefix("justgate_") }.map { "\($0.name)\($0.labels.sorted { $0.key < $1.key })" })
        #expect(series.count < 400, "\(series.count) series after \(5 * Self.invented) invented requests")
        #expect(samples.filter { $0.name == "justgate_validation_failures_total" }.count < 30)
    }

    @Test func anUpstreamsUnregisteredStatusesAreCountedByTheirClass() throws {
        let upstream = try ScriptedUpstream(.answer(200, "{}"))
        let gateway = try GatewayFixture(upstream: upstream.url, extraYAML: "admin_listen: 127.0.0.1:0",
                                         upstreamYAML: "  retries: { max_attempts: 1 }")
        // 10 statuses no registry knows, all relayed; they must make one series, not ten.
        for status in 590..<600 {
            upstream.behaviour = .answer(status, "odd")
            #expect(try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(Self.juid)").status == status)
        }
        upstream.behaviour = .answer(422, "known")
        _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(Self.juid)")
        let port = try #require(gateway.runtime.adminAddress?.port)
        var samples: [PrometheusSample] = []
        let deadline = Date().addingTimeInterval(5)
        repeat {
            samples = try PrometheusText.parse(try RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text)
            if PrometheusText.sum(samples, "justgate_requests_total") >= 11 { break }
            usleep(20_000)
        } while Date() < deadline
        #expect(PrometheusText.sum(samples, "justgate_requests_total", where: ["status": "5xx", "outcome": "forwarded"]) == 10)
        #expect(PrometheusText.sum(samples, "justgate_requests_total", where: ["status": "422", "outcome": "forwarded"]) == 1)
        let statuses = Set(samples.filter { $0.name == "justgate_requests_total" }.compactMap { $0.labels["status"] })
        #expect(statuses == ["5xx", "422"])
    }

    /// utm.update's form body with a `data` member no one documented.
    static func dataBody(_ index: Int) -> String {
        let json = "{\"made_up_\(index)\":\"x\",\"email\":\"a@b.example\"}"
        return "data=" + (json.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
    }
}
