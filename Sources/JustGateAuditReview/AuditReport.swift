import JustGateCore

/// What `justgate audit report --html` shows, accumulated one record at a time. Memory grows with the number
/// of distinct minutes × sites, operations, codes and policies (and at most `requestIDsKept` ids per site and
/// kind), never with the number of records.
public struct AuditReport {
    /// How many request ids of failed or refused requests the page lists per site and kind: the newest ones,
    /// enough to start `audit query --request-id` from, few enough to read.
    public static let requestIDsKept = 10

    /// Requests per minute (`2026-11-29T17:02`) per site.
    private(set) var perMinute: [String: [String: Int]] = [:]
    private(set) var perSite: [String: SiteCounts] = [:]
    private(set) var outcomes: [String: Int] = [:]
    private(set) var statusClasses: [String: Int] = [:]
    private(set) var durationByOperation: [String: LatencyHistogram] = [:]
    private(set) var rejectedFields: [String: Int] = [:]
    /// Rate-limit refusals per site and policy: a policy name is a site's own, so two sites' `per-ip` are two rows.
    private(set) var rateLimited: [SitePolicy: Int] = [:]
    /// Records counted.
    public private(set) var total = 0
    private(set) var firstTime: String?
    private(set) var lastTime: String?

    /// One site's totals and the newest ids of its failed and refused requests.
    struct SiteCounts {
        var requests = 0
        var serverErrors = 0
        var refused = 0
        var newestServerErrors = NewestIDs()
        var newestRefused = NewestIDs()
    }

    struct SitePolicy: Hashable {
        var site: String
        var policy: String
    }

    /// The last `AuditReport.requestIDsKept` ids added, in order (a small ring; records arrive oldest first).
    struct NewestIDs {
        private(set) var ids: [String] = []
        private var next = 0

        mutating func add(_ id: String) {
            if ids.count < AuditReport.requestIDsKept {
                ids.append(id)
            } else {
                ids[next] = id
                next = (next + 1) % ids.count
            }
        }

        /// Newest first.
        var newestFirst: [String] { Array((ids[next...] + ids[..<next]).reversed()) }
    }

    public init() {}

    /// Counts one record (already filtered).
    public mutating func add(_ record: AuditRecord) {
        total += 1
        let site = record.site ?? AuditReport.unauthenticated
        let minute = String(record.time.prefix(16))
        perMinute[minute, default: [:]][site, default: 0] += 1
        outcomes[record.outcome ?? "-", default: 0] += 1
        if let status = record.status { statusClasses["\(status / 100)xx", default: 0] += 1 }
        if let operation = record.operation, let duration = record.durationMicros {
            durationByOperation[operation, default: LatencyHistogram()].add(micros: duration)
        }
        for error in record.errors { rejectedFields["\(error.field ?? "(unknown field)") · \(error.code)", default: 0] += 1 }
        if record.outcome == RequestOutcome.rateLimited.rawValue {
            rateLimited[SitePolicy(site: site, policy: record.policy ?? "(none)"), default: 0] += 1
        }
        var counts = perSite[site] ?? SiteCounts()
        counts.requests += 1
        let id = record.requestID ?? "-"
        if let status = record.status, status >= 500 {
            counts.serverErrors += 1
            counts.newestServerErrors.add(id)
        } else if AuditReport.isRefusal(record) {
            counts.refused += 1
            counts.newestRefused.add(id)
        }
        perSite[site] = counts
        if firstTime.map({ record.time < $0 }) ?? true { firstTime = record.time }
        if lastTime.map({ record.time > $0 }) ?? true { lastTime = record.time }
    }

    static let unauthenticated = "(unauthenticated)"

    /// A request justgate itself turned away with a 4xx (invalid, unauthorised, limited), not one the upstream
    /// answered with a 4xx.
    static func isRefusal(_ record: AuditRecord) -> Bool {
        guard let status = record.status, (400..<500).contains(status) else { return false }
        return record.outcome != RequestOutcome.forwarded.rawValue && record.outcome != RequestOutcome.idempotentReplay.rawValue
    }

    /// The whole page: inline CSS and SVG, no scripts, fonts or anything else fetched. `chain` is the verdict
    /// of checking the log's hash chain, shown first: numbers from a log that was edited mean nothing.
    public func html(title: String = "justgate audit report", chain: AuditReportChain? = nil) -> String {
        var page = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(AuditHTML.escape(title))</title>
            <style>\(AuditHTML.style)</style></head><body>
            <h1>\(AuditHTML.escape(title))</h1>

            """
        if let chain { page += AuditHTML.chainBanner(chain) }
        page += "<p class=\"meta\">\(total) request\(total == 1 ? "" : "s")"
            + (firstTime.map { " from \(AuditHTML.escape($0))" } ?? "") + (lastTime.map { " to \(AuditHTML.escape($0))" } ?? "")
            + "</p>\n"
        page += section("Requests over time, per site", AuditHTML.timeChart(perMinute) + siteTable())
        page += "<div class=\"grid\">"
        page += section("Outcomes", AuditHTML.bars(outcomes.sorted { $0.value > $1.value }.map { ($0.key, Double($0.value), "\($0.value)") },
                                                  header: ("outcome", "requests")))
        page += section("Status classes", AuditHTML.bars(statusClasses.sorted { $0.key < $1.key }.map { ($0.key, Double($0.value), "\($0.value)") },
                                                        header: ("status", "requests")))
        let slowest = durationByOperation.compactMap { operation, histogram in
            histogram.percentile(0.95).map { (operation, Double($0) / 1000, AuditSummary.millis($0) + " ms") }
        }.sorted { $0.1 > $1.1 }.prefix(10)
        page += section("Slowest operations (p95 duration)", AuditHTML.bars(Array(slowest), header: ("operation", "p95")))
        page += section("Rejected fields by code", AuditHTML.bars(
            rejectedFields.sorted { $0.value > $1.value }.prefix(15).map { ($0.key, Double($0.value), "\($0.value)") },
            header: ("field · code", "requests")))
        let limited = rateLimited.sorted { $0.value != $1.value ? $0.value > $1.value : ($0.key.site, $0.key.policy) < ($1.key.site, $1.key.policy) }
        page += section("Rate-limit rejections by site and policy", AuditHTML.bars(
            limited.map { ("\($0.key.site) · \($0.key.policy)", Double($0.value), "\($0.value)") }, header: ("site · policy", "requests")))
        page += "</div>\n"
        page += section("Request ids of 5xx answers and refused requests, newest first, per site", requestIDTable())
        page += "<p class=\"meta\">Generated by justgate audit report. Personal fields are masked in the log and not shown here. "
            + "Look a request up with <code>justgate audit query --request-id ID</code>.</p>\n</body></html>\n"
        return page
    }

    private func section(_ heading: String, _ body: String) -> String {
        "<section><h2>\(AuditHTML.escape(heading))</h2>\n\(body)\n</section>\n"
    }

    /// The numbers behind the time chart.
    private func siteTable() -> String {
        guard !perSite.isEmpty else { return "" }
        var rows: [[String]] = []
        for (site, counts) in perSite.sorted(by: { $0.key < $1.key }) {
            let peak = perMinute.values.map { $0[site] ?? 0 }.max() ?? 0
            rows.append([site, "\(counts.requests)", "\(peak)", "\(counts.serverErrors)", "\(counts.refused)"])
        }
        return AuditHTML.table(header: ["site", "requests", "peak per minute", "5xx", "refused (4xx by justgate)"], rows: rows,
                               numericFrom: 1)
    }

    private func requestIDTable() -> String {
        let rows = perSite.sorted { $0.key < $1.key }.filter { $0.value.serverErrors + $0.value.refused > 0 }.map { site, counts in
            [site, "\(counts.serverErrors)", counts.newestServerErrors.newestFirst.joined(separator: " "),
             "\(counts.refused)", counts.newestRefused.newestFirst.joined(separator: " ")]
        }
        guard !rows.isEmpty else { return "<p class=\"empty\">No 5xx answers and no refused requests in this period.</p>" }
        return AuditHTML.table(header: ["site", "5xx", "newest 5xx request ids", "refused", "newest refused request ids"],
                               rows: rows, numericFrom: nil, codeColumns: [2, 4])
    }
}

/// The hash chain's verdict, as the report's first line states it.
public enum AuditReportChain: Sendable, Equatable {
    /// Every record checked: `detail` says how (records, key or not, the last seq and hash).
    case intact(detail: String)
    /// The first break: its file, line and why.
    case broken(detail: String)
    /// The chain was not checked (say why and how to check it).
    case unchecked(reason: String)
}
