import Foundation
import Testing

/// `log.sample_success`: a busy gateway keeps an exact share of its successful request lines, counts
/// the rest in metrics, and still logs every problem and audits every request.
@Suite(.serialized)
struct LogVolumeTests {
    @Test func aShareOfSuccessfulLinesIsKeptAndEveryProblemIsLogged() throws {
        let gateway = try GatewayFixture(extraYAML: """
            admin_listen: 127.0.0.1:0
            log: { sample_success: 0.1 }
            """, workers: 1)
        let juid = "de6f0132ea9e412599ae31262c45633b"
        let create = try gateway.send("POST", "/api/user/v1/subscription/create/profile",
                                      contentType: "application/x-www-form-urlencoded", body: "ip=8.8.8.8")
        #expect(create.status == 200)
        let profile = create.text.trimmingCharacters(in: .whitespacesAndNewlines)
        for _ in 0..<19 { #expect(try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(profile)").status == 200) }
        for _ in 0..<3 { #expect(try gateway.send("GET", "/api/user/v1/info/segment/?juid=nope").status == 422) }
        #expect(try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)", key: "wrong").status == 401)

        let log = gateway.logText(containing: "\"status\":401")
        let lines = log.split(separator: "\n").filter { $0.contains("\"message\":\"request\"") }
        #expect(lines.filter { $0.contains("\"status\":200") }.count == 2, "\(lines.count) request lines")
        #expect(lines.filter { $0.contains("\"status\":422") }.count == 3)
        #expect(lines.filter { $0.contains("\"status\":401") }.count == 1)

        // The audit log is never sampled: all 24 requests have their record.
        let deadline = Date().addingTimeInterval(3)
        var audited = 0
        repeat {
            audited = gateway.auditText().split(separator: "\n").filter { $0.contains("\"event\":\"request\"") }.count
            if audited >= 24 { break }
            usleep(20_000)
        } while Date() < deadline
        #expect(audited == 24)

        let port = try #require(gateway.runtime.adminAddress?.port)
        let metrics = try RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text
        #expect(PrometheusText.sum(try PrometheusText.parse(metrics), "justgate_log_lines_dropped_total") == 18)
    }

    @Test func aShareOutsideZeroToOneIsAConfigError() throws {
        #expect(throws: (any Error).self) { try GatewayFixture(extraYAML: "log: { sample_success: 1.5 }") }
    }
}
