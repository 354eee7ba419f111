import Foundation
import JustGateCore
import Testing

/// Issue 22, item 14: the alert rules and the Grafana dashboard in deploy/ are valid PromQL (promtool) and name
/// only metrics a real gateway exports, with the exact `_bucket`/`_sum`/`_count` names of its histograms.
@Suite struct MonitoringArtifactsTests {
    static let alertsPath = "deploy/prometheus/justgate-alerts.yml"
    static let dashboardPath = "deploy/grafana/justgate-dashboard.json"
    /// The one series Prometheus adds to every scrape itself (`JustGateDown`); not on `/metrics`.
    static let madeByPrometheus: Set<String> = ["up"]

    @Test func promtoolAcceptsTheAlertRules() throws {
        let promtool = try SystemTools.require("promtool", package: "prometheus")
        let outcome = try SystemTools.run(promtool, ["check", "rules", Self.alertsPath])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout.contains("SUCCESS"))
    }

    /// promtool checks PromQL only in rule files, so the dashboard's queries go into one as recording rules.
    @Test func promtoolAcceptsEveryDashboardQuery() throws {
        let promtool = try SystemTools.require("promtool", package: "prometheus")
        let expressions = try Self.dashboardExpressions()
        #expect(expressions.count >= 15)
        var rules = "groups:\n  - name: dashboard\n    rules:\n"
        for (index, expression) in expressions.enumerated() {
            let quoted = expression.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            rules += "      - record: dashboard:query_\(index)\n        expr: \"\(quoted)\"\n"
        }
        let directory = try SystemTools.temporaryDirectory(prefix: "justgate-dashboard")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("dashboard-rules.yml")
        try rules.write(to: file, atomically: true, encoding: .utf8)
        let outcome = try SystemTools.run(promtool, ["check", "rules", file.path])
        #expect(outcome.status == 0, "\(outcome.stdout)\(outcome.stderr)")
    }

    @Test func everyMetricTheAlertsAndTheDashboardNameIsOnALiveMetricsPage() throws {
        let exported = try Self.liveMetricNames()
        let sources = [(Self.alertsPath, try Self.alertExpressions()), (Self.dashboardPath, try Self.dashboardExpressions())]
        var named: Set<String> = []
        for (path, expressions) in sources {
            #expect(!expressions.isEmpty, "no expr in \(path)")
            for expression in expressions {
                let names = PromQLNames.metrics(in: expression)
                #expect(!names.isEmpty, "\(path): no metric in \(expression)")
                for name in names where !exported.contains(name) && !Self.madeByPrometheus.contains(name)
                    && !Self.onlyWithVault.contains(name) && !Self.onlyWithOutbox.contains(name) {
                    Issue.record("\(path) names \(name), which /metrics does not export: \(expression)")
                }
                named.formUnion(names)
            }
        }
        // The alerts the issue asks for are there.
        for required in ["justgate_upstream_circuit_state", "justgate_requests_total", "justgate_rate_limit_fallback_active",
                         "justgate_audit_write_errors_total", "justgate_reloads_total", "justgate_site_key_expiry_seconds"] {
            #expect(try Self.alertExpressions().contains { PromQLNames.metrics(in: $0).contains(required) }, "no alert on \(required)")
        }
        #expect(named.contains("justgate_request_duration_seconds_bucket"))
    }

    /// Exported (with samples) only by a gateway with `secrets.vault`; `VaultTokenTests` reads them off the
    /// `/metrics` of one, and they must have HELP on every gateway (checked here through the live page's names).
    static let onlyWithVault: Set<String> = [
        "justgate_secret_source_up", "justgate_secret_source_last_success_timestamp_seconds",
    ]

    /// Exported with samples only by a gateway whose sites defer (it has an outbox);
    /// `OutboxDeliveryTests.anOperatorListsRetriesAndDropsEntries` reads them off the `/metrics` of one.
    static let onlyWithOutbox: Set<String> = [
        "justgate_outbox_depth", "justgate_outbox_oldest_age_seconds", "justgate_outbox_bytes", "justgate_outbox_max_bytes",
        "justgate_outbox_dead_total",
    ]

    @Test func theNameReaderFindsMetricsAndSkipsFunctionsLabelsAndDurations() {
        let expression = """
            histogram_quantile(0.99, sum by (site, le) (rate(justgate_request_duration_seconds_bucket{site!="-",le=~".*"}[5m])))
              / on (instance) group_left(version) max(justgate_build_info) > bool 7 * 86400 unless absent(up{job="x"} offset 1h)
            """
        #expect(PromQLNames.metrics(in: expression) == ["justgate_request_duration_seconds_bucket", "justgate_build_info", "up"])
    }

    // MARK: - Reading the files and a live gateway

    /// Every sample name (so `_bucket`, `_sum`, `_count` of histograms) on `/metrics` of a gateway that has
    /// forwarded, refused and rate-limited requests and has an expiring key.
    static func liveMetricNames() throws -> Set<String> {
        let gateway = try GatewayFixture(extraYAML: "admin_listen: 127.0.0.1:0", horoscopeYAML: """
            keys:
              - { sha256: "\(SiteKeys.sha256Hex("next-key"))", expires: 2099-12-31 }
            limits:
              - { name: one-per-hour, scope: site, operations: [action.save], rate: 1/h }
            """)
        let juid = "de6f0132ea9e412599ae31262c45633b"
        _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=\(juid)")
        _ = try gateway.send("GET", "/api/user/v1/info/segment/?juid=nope")
        for _ in 0..<2 {
            _ = try gateway.send("POST", "/api/user/v1/action/", contentType: "application/x-www-form-urlencoded",
                                 body: "juid=\(juid)&tags=1&label=x")
        }
        let port = try #require(gateway.runtime.adminAddress?.port)
        let samples = Polling.read(timeoutSeconds: 3, until: { PrometheusText.sum($0, "justgate_requests_total") >= 4 }) {
            (try? PrometheusText.parse(try RawHTTPClient(port: port).exchange("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").text)) ?? []
        }
        #expect(PrometheusText.sum(samples, "justgate_rate_limited_total") == 1)
        return Set(samples.map(\.name))
    }

    /// The `expr:` of every rule: one line, or a `|` block of the lines indented below it.
    static func alertExpressions() throws -> [String] {
        let lines = try SystemTools.text(alertsPath).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var expressions: [String] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            guard let range = line.range(of: "expr:") else { continue }
            let rest = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            guard rest == "|" || rest == ">" else {
                expressions.append(rest)
                continue
            }
            let indent = line.prefix { $0 == " " }.count
            var block: [String] = []
            while index < lines.count, lines[index].prefix(while: { $0 == " " }).count > indent || lines[index].isEmpty {
                block.append(lines[index].trimmingCharacters(in: .whitespaces))
                index += 1
            }
            expressions.append(block.joined(separator: " ").trimmingCharacters(in: .whitespaces))
        }
        return expressions
    }

    /// The `expr` of every target of every panel (and of panels nested in rows).
    static func dashboardExpressions() throws -> [String] {
        let data = Data(try SystemTools.text(dashboardPath).utf8)
        var expressions: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                for (key, member) in object {
                    if key == "expr", let text = member as? String { expressions.append(text) } else { walk(member) }
                }
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(try JSONSerialization.jsonObject(with: data))
        return expressions
    }
}

/// The metric names in a PromQL expression: every identifier that is not a function (followed by `(`), a
/// keyword, a label name (inside `{…}` or a `by`/`without`/`on`/`ignoring`/`group_*` list), a number or a
/// duration (`[5m]`, `offset 1h`), or an aggregation operator (which may be followed by `by (…)` before its
/// parenthesis: `sum by (site) (…)`); string literals are skipped whole.
enum PromQLNames {
    static let keywords: Set<String> = ["and", "or", "unless", "bool", "offset", "inf", "nan"]
    static let aggregations: Set<String> = ["sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                                            "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"]
    static let labelLists: Set<String> = ["by", "without", "on", "ignoring", "group_left", "group_right"]

    static func metrics(in expression: String) -> Set<String> {
        let characters = Array(expression)
        var names: Set<String> = []
        var index = 0
        func isNameStart(_ character: Character) -> Bool { character.isLetter || character == "_" || character == ":" }
        func isNamePart(_ character: Character) -> Bool { isNameStart(character) || character.isNumber }
        func skip(until close: Character) {
            while index < characters.count {
                let character = characters[index]
                index += 1
                if character == "\"" || character == "'" { skipString(character) } else if character == close { return }
            }
        }
        func skipString(_ quote: Character) {
            while index < characters.count {
                let character = characters[index]
                index += 1
                if character == "\\" { index += 1 } else if character == quote { return }
            }
        }
        while index < characters.count {
            let character = characters[index]
            if character == "\"" || character == "'" {
                index += 1
                skipString(character)
            } else if character == "{" {
                index += 1
                skip(until: "}")
            } else if character == "[" {
                index += 1
                skip(until: "]")
            } else if character.isNumber {
                while index < characters.count, isNamePart(characters[index]) || characters[index] == "." { index += 1 }
            } else if isNameStart(character) {
                let start = index
                while index < characters.count, isNamePart(characters[index]) { index += 1 }
                let word = String(characters[start..<index])
                var next = index
                while next < characters.count, characters[next] == " " || characters[next] == "\n" { next += 1 }
                let isCall = next < characters.count && characters[next] == "("
                if labelLists.contains(word) {
                    if isCall {
                        index = next + 1
                        skip(until: ")")
                    }
                } else if word == "offset" {
                    index = next
                    while index < characters.count, isNamePart(characters[index]) { index += 1 }
                } else if !isCall && !keywords.contains(word.lowercased()) && !aggregations.contains(word) {
                    names.insert(word)
                }
            } else {
                index += 1
            }
        }
        return names
    }
}
