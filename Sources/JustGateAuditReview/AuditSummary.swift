import JustGateCore

/// `justgate audit summary`: counts by site × operation × outcome with duration percentiles, accumulated one
/// record at a time (memory grows with the number of groups, not of records).
public struct AuditSummary {
    /// One row of the summary.
    public struct Group: Sendable, Equatable {
        public var site: String
        public var operation: String
        public var outcome: String
        public var count = 0
        public var duration = LatencyHistogram()
        public var upstream = LatencyHistogram()
    }

    private struct Key: Hashable {
        var site: String
        var operation: String
        var outcome: String
    }

    private var groups: [Key: Group] = [:]
    /// Records counted.
    public private(set) var total = 0

    public init() {}

    /// Counts one record (already filtered).
    public mutating func add(_ record: AuditRecord) {
        add(site: record.site, operation: record.operation, outcome: record.outcome,
            durationMicros: record.durationMicros, upstreamMicros: record.upstreamMicros)
    }

    /// Counts one record given by the fields the summary reads.
    public mutating func add(site: String?, operation: String?, outcome: String?, durationMicros: Int?, upstreamMicros: Int?) {
        let site = site ?? "-", operation = operation ?? "-", outcome = outcome ?? "-"
        let key = Key(site: site, operation: operation, outcome: outcome)
        func count(_ group: inout Group) {
            group.count += 1
            if let durationMicros { group.duration.add(micros: durationMicros) }
            if let upstreamMicros { group.upstream.add(micros: upstreamMicros) }
        }
        count(&groups[key, default: Group(site: site, operation: operation, outcome: outcome)])
        total += 1
    }

    /// The groups, most requests first, then by name.
    public var rows: [Group] {
        groups.values.sorted { ($1.count, $0.site, $0.operation, $0.outcome) < ($0.count, $1.site, $1.operation, $1.outcome) }
    }

    /// An aligned text table, its text cells escaped (`TerminalSafeText`) so a record cannot drive the terminal.
    public func table() -> String {
        let header = ["SITE", "OPERATION", "OUTCOME", "COUNT", "P50_MS", "P95_MS", "P99_MS", "UP_P50_MS", "UP_P95_MS", "UP_P99_MS"]
        var lines = [header]
        for row in rows {
            let names: [String] = [row.site, row.operation, row.outcome].map(TerminalSafeText.escaped)
            let durations: [String] = [0.5, 0.95, 0.99].map { AuditSummary.millis(row.duration.percentile($0)) }
            let upstream: [String] = [0.5, 0.95, 0.99].map { AuditSummary.millis(row.upstream.percentile($0)) }
            lines.append(names + [String(row.count)] + durations + upstream)
        }
        let widths = header.indices.map { column in lines.map { $0[column].count }.max() ?? 0 }
        let numeric = Set(3..<header.count)
        return lines.map { cells in
            cells.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return numeric.contains(column) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }

    /// The same rows as one JSON document.
    public func json() -> String {
        var out = "{\"total\":\(total),\"groups\":["
        for (index, row) in rows.enumerated() {
            if index > 0 { out += "," }
            out += "{\"site\":\(AuditSummary.quoted(row.site)),\"operation\":\(AuditSummary.quoted(row.operation)),"
            out += "\"outcome\":\(AuditSummary.quoted(row.outcome)),\"count\":\(row.count)"
            for (name, histogram) in [("duration_ms", row.duration), ("upstream_ms", row.upstream)] {
                out += ",\"\(name)\":{"
                out += [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)].map { label, fraction in
                    "\"\(label)\":\(histogram.percentile(fraction).map { AuditSummary.millis($0) } ?? "null")"
                }.joined(separator: ",")
                out += "}"
            }
            out += "}"
        }
        return out + "]}\n"
    }

    static func quoted(_ text: String) -> String {
        var out = ""
        JSONWriter.appendQuoted(text, to: &out)
        return out
    }

    /// Microseconds as milliseconds with one decimal, `-` when unknown.
    static func millis(_ micros: Int?) -> String {
        guard let micros else { return "-" }
        return "\(micros / 1000).\(micros % 1000 / 100)"
    }
}

extension String {
    fileprivate func replacingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
