import Foundation
import JustGateCore
import Testing

/// The admin listener through real sockets: health, readiness, metrics that match the traffic, the
/// admin token, and reloads.
@Suite(.serialized)
struct AdminEndpointTests {
    static let adminToken = "admin-token-0123456789abcdefghijklmnopq"

    func admin(_ gateway: GatewayFixture, _ method: String, _ path: String, token: String? = nil) throws -> RawHTTPClient.Response {
        let port = try #require(gateway.runtime.adminAddress?.port)
        var raw = "\(method) \(path) HTTP/1.1\r\nHost: x\r\n"
        if let token { raw += "Authorization: Bearer \(token)\r\n" }
        if method == "POST" { raw += "Content-Length: 0\r\n" }
        return try RawHTTPClient(port: port).exchange(raw + "\r\n")
    }

    @Test func healthAndReadiness() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        #expect(try admin(gateway, "GET", "/healthz").status == 200)
        let ready = try admin(gateway, "GET", "/readyz")
        #expect(ready.status == 200)
        #expect(ready.text == "ready\n")
        #expect(try admin(gateway, "GET", "/nothing").status == 404)
        let wrongMethod = try admin(gateway, "POST", "/metrics")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("Allow") == "GET, HEAD")
    }

    @Test func metricsCountTheTrafficAndParseAsPrometheusText() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0", horoscopeYAML: """
            limits:
              - { name: two-per-hour, scope: site, operations: [action.save], rate: 2/h }
            """)
        let juid = "de6f0132ea9e412599ae31262c45633b"
        for _ in 0..<7 { _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)") }
        for _ in 0..<3 { _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=nope") }
        for _ in 0..<2 { _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", key: "wrong") }
        for _ in 0..<3 {
            _ = try gateway.send("POST", "/api/user/v1/action/", contentType: "application/x-www-form-urlencoded",
                                 body: "juid=\(juid)&tags=1&label=x")
        }
        // Lines are recorded after each answer is sent: wait until all twelve are in.
        var samples: [PrometheusSample] = []
        let deadline = Date().addingTimeInterval(3)
        repeat {
            let response = try admin(gateway, "GET", "/metrics")
            #expect(response.status == 200)
            #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            samples = try PrometheusText.parse(response.text)
            if PrometheusText.sum(samples, "justgate_requests_total") == 15 { break }
            usleep(20_000)
        } while Date() < deadline
        let requests = { (labels: [String: String]) in PrometheusText.sum(samples, "justgate_requests_total", where: labels) }
        #expect(requests(["site": "horoscope-daily", "operation": "segments.get", "outcome": "forwarded"]) == 7)
        #expect(requests(["operation": "segments.get", "status": "422"]) == 3)
        #expect(requests(["site": "-", "status": "401"]) == 2)
        #expect(requests(["operation": "action.save", "status": "429", "outcome": "rate_limited"]) == 1)
        #expect(PrometheusText.sum(samples, "justgate_validation_failures_total", where: ["field": "juid", "code": "invalid_juid"]) == 3)
        #expect(PrometheusText.sum(samples, "justgate_rate_limited_total", where: ["policy": "two-per-hour"]) == 1)
        #expect(PrometheusText.sum(samples, "justgate_request_duration_seconds_count") == 15)
        #expect(PrometheusText.sum(samples, "justgate_upstream_duration_seconds_count") == 9)
        #expect(PrometheusText.sum(samples, "justgate_upstream_in_flight") == 0)
        #expect(PrometheusText.sum(samples, "justgate_open_connections") >= 0)
        // No series is labelled with anything secret.
        let text = try admin(gateway, "GET", "/metrics").text
        #expect(!text.contains(GatewayFixture.horoscopeToken) && !text.contains(GatewayFixture.horoscopeKey))
    }

    /// A failing upstream fails every gateway alike: taking them all out of the balancer would replace
    /// justgate's 503 with Retry-After by the balancer's error. So /readyz stays 200 and says so in a note.
    @Test func anOpenCircuitKeepsTheGatewayReadyAndShowsInItsBodyAndMetrics() throws {
        let refusedPort = try FreePort.pick()
        let gateway = try GatewayFixture(upstream: "http://127.0.0.1:\(refusedPort)", extraYAML: "admin_listen: 127.0.0.1:0",
                                         upstreamYAML: "  retries: { max_attempts: 1 }\n  circuit: { failures: 1, open_ms: 60000 }")
        #expect(try admin(gateway, "GET", "/readyz").status == 200)
        #expect(try gateway.send("GET", "/api/user/v1/info/segment/?juid=de6f0132ea9e412599ae31262c45633b").status == 502)
        let ready = try admin(gateway, "GET", "/readyz")
        #expect(ready.status == 200)
        #expect(ready.text.hasPrefix("ready\n") && ready.text.contains("note: the upstream circuit is open"), "\(ready.text)")
        let samples = try PrometheusText.parse(try admin(gateway, "GET", "/metrics").text)
        #expect(PrometheusText.sum(samples, "justgate_upstream_circuit_state", where: ["state": "open"]) == 1)
        #expect(PrometheusText.sum(samples, "justgate_upstream_circuit_state", where: ["state": "closed"]) == 0)
    }

    @Test func theAdminTokenIsDemandedWhenConfigured() throws {
        let gateway = try GatewayFixture(extraYAML: """
            admin_listen: 127.0.0.1:0
            admin_token_sha256: "\(SiteKeys.sha256Hex(Self.adminToken))"
            """)
        let refused = try admin(gateway, "GET", "/metrics")
        #expect(refused.status == 401)
        #expect(refused.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(try admin(gateway, "GET", "/metrics", token: "admin-token-wrong").status == 401)
        #expect(try admin(gateway, "GET", "/metrics", token: Self.adminToken).status == 200)
        #expect(try admin(gateway, "GET", "/healthz", token: Self.adminToken).status == 200)
    }

    @Test func reloadWithoutAConfigFileSaysSoAndCountsAFailure() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let response = try admin(gateway, "POST", "/reload")
        #expect(response.status == 422)
        #expect(response.text.contains("still serving the previous config"))
        let samples = try PrometheusText.parse(try admin(gateway, "GET", "/metrics").text)
        #expect(PrometheusText.sum(samples, "justgate_reloads_total", where: ["result": "failed"]) == 1)
    }
}

/// One sample of the Prometheus text format.
struct PrometheusSample {
    var name: String
    var labels: [String: String]
    var value: Double
}

/// A strict reader of the Prometheus text exposition format (version 0.0.4): comments, and lines of
/// `name{label="value",...} number`. Anything else throws, so a malformed exposition fails the test.
enum PrometheusText {
    struct Malformed: Error, CustomStringConvertible { var description: String }

    static func parse(_ text: String) throws -> [PrometheusSample] {
        var samples: [PrometheusSample] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                let words = line.split(separator: " ")
                guard words.count >= 3, words[1] == "TYPE" || words[1] == "HELP" else { throw Malformed(description: "bad comment: \(line)") }
                if words[1] == "TYPE" {
                    guard words.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(words[3])) else {
                        throw Malformed(description: "bad TYPE: \(line)")
                    }
                }
                continue
            }
            samples.append(try sample(String(line)))
        }
        return samples
    }

    private static func sample(_ line: String) throws -> PrometheusSample {
        var rest = Substring(line)
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard let first = name.first, !first.isNumber else { throw Malformed(description: "bad metric name: \(line)") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let key = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                guard !key.isEmpty, rest.dropFirst(key.count).hasPrefix("=\"") else { throw Malformed(description: "bad label: \(line)") }
                rest = rest.dropFirst(key.count + 2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    if character == "\\" {
                        rest = rest.dropFirst()
                        guard let escaped = rest.first else { throw Malformed(description: "bad escape: \(line)") }
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                    rest = rest.dropFirst()
                }
                guard rest.first == "\"" else { throw Malformed(description: "unterminated label: \(line)") }
                rest = rest.dropFirst()
                labels[String(key)] = value
                if rest.first == "," { rest = rest.dropFirst() }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw Malformed(description: "no value: \(line)") }
        let number = rest.dropFirst().split(separator: " ").first.map(String.init) ?? ""
        guard let value = Double(number) ?? (number == "+Inf" ? .infinity : nil) else {
            throw Malformed(description: "bad value: \(line)")
        }
        return PrometheusSample(name: String(name), labels: labels, value: value)
    }

    /// The sum of `name`'s samples whose labels include `labels`.
    static func sum(_ samples: [PrometheusSample], _ name: String, where labels: [String: String] = [:]) -> Double {
        samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }.reduce(0) { $0 + $1.value }
    }
}
