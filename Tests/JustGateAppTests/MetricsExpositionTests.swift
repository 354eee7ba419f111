import Foundation
@testable import JustGateApp
import JustGateCore
import Testing

/// Issue 22, item 14: what `/metrics` holds before and after traffic, read from a live gateway's admin listener.
@Suite struct MetricsExpositionTests {
    static let juid = "de6f0132ea9e412599ae31262c45633b"

    func scrape(_ gateway: GatewayFixture) throws -> String {
        let port = try #require(gateway.runtime.adminAddress?.port)
        return try RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text
    }

    /// The name after `# TYPE` / `# HELP` on each such line.
    static func commentedNames(_ text: String, _ kind: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ", maxSplits: 3)
            return words.count >= 3 && words[0] == "#" && words[1] == kind ? String(words[2]) : nil
        }
    }

    @Test func everyFamilyHasHelpTextAndNoSeriesHasAWorkerLabel() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        // Traffic of each kind first, so the families made on first use are there too.
        _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(Self.juid)")
        _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=nope")
        _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(Self.juid)", key: "wrong")
        let text = Polling.read(timeoutSeconds: 3, until: { text in
            PrometheusText.sum((try? PrometheusText.parse(text)) ?? [], "justgate_requests_total") >= 3
        }) { (try? scrape(gateway)) ?? "" }
        let typed = Self.commentedNames(text, "TYPE")
        let helped = Set(Self.commentedNames(text, "HELP"))
        #expect(typed.count >= 19, "\(typed)")
        for name in typed {
            #expect(helped.contains(name), "\(name) has no # HELP line")
        }
        for name in typed where name.hasPrefix("justgate_") || name.hasPrefix("process_") {
            #expect(!MetricHelp.text(name).isEmpty, "\(name) is missing from MetricHelp")
        }
        let samples = try PrometheusText.parse(text)
        #expect(samples.allSatisfy { $0.labels["worker"] == nil })
        // One histogram series per (site, operation), whichever loop recorded it.
        let counts = samples.filter { $0.name == "justgate_request_duration_seconds_count" }
        #expect(Set(counts.map { "\($0.labels.sorted { $0.key < $1.key })" }).count == counts.count)
    }

    @Test func countersExistAtZeroBeforeAnyRequest() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let samples = try PrometheusText.parse(try scrape(gateway))
        func series(_ name: String, _ labels: [String: String] = [:]) -> [PrometheusSample] {
            samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
        }
        for (name, labels) in [("justgate_log_lines_dropped_total", [:]), ("justgate_audit_write_errors_total", [:]),
                               ("justgate_reloads_total", ["result": "ok"]), ("justgate_reloads_total", ["result": "failed"]),
                               ("justgate_rate_limit_fallback_active", [:]), ("justgate_upstream_in_flight", [:])] {
            let found = series(name, labels)
            #expect(found.count == 1 && found.first?.value == 0, "\(name)\(labels): \(found)")
        }
        let retries = series("justgate_upstream_retries_total")
        #expect(Set(retries.compactMap { $0.labels["operation"] }) == Catalogue().ids)
        #expect(retries.allSatisfy { $0.value == 0 })
        #expect(series("justgate_upstream_circuit_state", ["state": "closed"]).first?.value == 1)
    }

    @Test func buildInfoAndProcessMetricsDescribeThisProcess() throws {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0")
        let samples = try PrometheusText.parse(try scrape(gateway))
        func value(_ name: String) -> Double? { samples.first { $0.name == name }?.value }
        let info = samples.filter { $0.name == "justgate_build_info" }
        #expect(info.count == 1)
        #expect(info.first?.value == 1)
        #expect(info.first?.labels == ["version": JustGateVersion.current, "swift": JustGateVersion.swift])

        let now = Date().timeIntervalSince1970
        let start = try #require(value("process_start_time_seconds"))
        #expect(start <= now + 1 && start > now - 86_400, "start \(start), now \(now)")
        let resident = try #require(value("process_resident_memory_bytes"))
        #expect(resident > 1_000_000 && resident < 64_000_000_000)
        let open = try #require(value("process_open_fds"))
        let max = try #require(value("process_max_fds"))
        // This process holds at least the gateway's listeners, epoll descriptors and the scrape's connection.
        #expect(open >= 5 && open <= max, "open \(open), max \(max)")
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        #expect(max == Double(limit.rlim_cur))
        let cpu = try #require(value("process_cpu_seconds_total"))
        #expect(cpu > 0)
        // The counter follows the kernel's total: spend CPU, scrape again, and it has grown.
        var spin = 0.0
        for index in 0..<20_000_000 { spin += Double(index & 7) }
        #expect(spin > 0)
        let later = try PrometheusText.parse(try scrape(gateway)).first { $0.name == "process_cpu_seconds_total" }?.value ?? 0
        #expect(later > cpu)
    }

    @Test func procStatFieldsAreCountedFromAfterTheCommandName() throws {
        // A command name with spaces and parentheses must not shift the fields.
        let line = "4242 (jg (a) b) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 75 0 0 20 0 3 0 12345 200000000 4096 "
            + "18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0"
        let fields = try #require(ProcessReadings.StatFields(line))
        #expect(fields.userTicks == 250 && fields.systemTicks == 75)
        #expect(fields.startTicks == 12345 && fields.residentPages == 4096)
        #expect(ProcessReadings.StatFields("4242 (no close paren S 1") == nil)
        #expect(ProcessReadings.bootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n") == 1_700_000_000)
    }

    @Test func keyExpiryIsSecondsLeftPerExpiringKeyByFingerprint() throws {
        let expiring = SiteKeys.sha256Hex("horoscope-next-key")
        let expired = SiteKeys.sha256Hex("horoscope-old-key")
        let now: Int64 = 1_893_456_000 - 3 * 86_400  // three days before 2030-01-01
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0", horoscopeYAML: """
            keys:
              - { sha256: "\(expiring)", expires: "2030-01-01T00:00:00Z" }
              - { sha256: "\(expired)", expires: 2029-12-01 }
            """, wallClock: { now })
        let samples = try PrometheusText.parse(try scrape(gateway)).filter { $0.name == "justgate_site_key_expiry_seconds" }
        let byKey = Dictionary(samples.map { ($0.labels["key"] ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        // The key without expiry (key_sha256) and the other site's keys have no series.
        #expect(samples.count == 2)
        #expect(byKey[String(expiring.prefix(12))]?.value == Double(3 * 86_400))
        #expect(byKey[String(expiring.prefix(12))]?.labels["site"] == "horoscope-daily")
        #expect(byKey[String(expired.prefix(12))]?.value == Double(1_893_456_000 - 31 * 86_400 - now))
        // Neither the hash nor the key is in the exposition.
        let text = try scrape(gateway)
        #expect(!text.contains(expiring) && !text.contains("horoscope-next-key"))
    }
}
