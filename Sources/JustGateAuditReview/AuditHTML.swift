import JustGateCore

/// The pieces of the report page: escaping, the stylesheet and the two kinds of chart, drawn as inline SVG
/// so the page works offline, from a file, with scripts disabled.
enum AuditHTML {
    /// Text safe inside HTML elements and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static let palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"]

    static let style = """
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#111827;background:#ffffff}
        h1{font-size:24px;margin:0 0 8px}h2{font-size:17px;margin:0 0 10px}
        .meta{color:#4b5563;margin:0 0 16px}
        section{border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;margin:0 0 16px;background:#f9fafb}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px;margin:0 0 16px}
        .grid section{margin:0}
        svg{display:block;width:100%;height:auto}
        svg text{font:13px system-ui,sans-serif;fill:#374151}
        table{border-collapse:collapse;width:100%;margin:8px 0 0}
        th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #e5e7eb;vertical-align:top}
        th{font-weight:600;color:#374151;background:#f3f4f6}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        td.bar{width:45%}
        td.bar i{display:block;height:14px;border-radius:2px;min-width:2px}
        td code,p code{font:13px ui-monospace,monospace;white-space:nowrap}
        .legend span{display:inline-block;margin-right:14px}
        .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
        .empty{color:#4b5563;font-style:italic}
        .chain{padding:10px 14px;border-radius:8px;margin:0 0 12px;font-weight:600}
        .chain.intact{background:#dcfce7;color:#14532d}.chain.broken{background:#fee2e2;color:#7f1d1d}
        .chain.unchecked{background:#fef3c7;color:#78350f}
        """

    /// Horizontal bars as a table: label, a bar as long as the value, and the number itself beside it, so the
    /// chart and its numbers are one thing that reads at any zoom (text is the page's, not a scaled drawing's).
    static func bars(_ rows: [(String, Double, String)], header: (String, String)) -> String {
        guard let largest = rows.map(\.1).max(), largest > 0 else { return "<p class=\"empty\">None in this period.</p>" }
        var html = "<table><tr><th>\(escape(header.0))</th><th></th><th class=\"num\">\(escape(header.1))</th></tr>"
        for (index, row) in rows.enumerated() {
            let percent = max(0.5, (row.1 / largest * 1000).rounded() / 10)
            html += "<tr><td>\(escape(row.0))</td><td class=\"bar\"><i style=\"width:\(percent)%;background:"
                + "\(palette[index % palette.count])\"></i></td><td class=\"num\">\(escape(row.2))</td></tr>"
        }
        return html + "</table>"
    }

    /// A plain table; columns from `numericFrom` on are right-aligned numbers, `codeColumns` hold ids
    /// separated by spaces.
    static func table(header: [String], rows: [[String]], numericFrom: Int?, codeColumns: Set<Int> = []) -> String {
        func isNumeric(_ column: Int) -> Bool { numericFrom.map { column >= $0 } ?? false }
        var html = "<table><tr>"
        for (column, title) in header.enumerated() {
            html += isNumeric(column) ? "<th class=\"num\">\(escape(title))</th>" : "<th>\(escape(title))</th>"
        }
        html += "</tr>"
        for row in rows {
            html += "<tr>"
            for (column, cell) in row.enumerated() {
                if codeColumns.contains(column) {
                    // Each id whole on its line; lines break between ids.
                    html += "<td>" + cell.split(separator: " ").map { "<code>\(escape(String($0)))</code>" }.joined(separator: " ") + "</td>"
                } else {
                    html += isNumeric(column) ? "<td class=\"num\">\(escape(cell))</td>" : "<td>\(escape(cell))</td>"
                }
            }
            html += "</tr>"
        }
        return html + "</table>"
    }

    /// The chain's verdict as the page's first line.
    static func chainBanner(_ chain: AuditReportChain) -> String {
        switch chain {
        case .intact(let detail):
            return "<p class=\"chain intact\">Hash chain intact: \(escape(detail))</p>\n"
        case .broken(let detail):
            return "<p class=\"chain broken\">Hash chain BROKEN: \(escape(detail)). The numbers below come from a log that was "
                + "changed after it was written.</p>\n"
        case .unchecked(let reason):
            return "<p class=\"chain unchecked\">Hash chain not checked: \(escape(reason))</p>\n"
        }
    }

    /// Requests per time bucket, one line per site, over at most 120 buckets of whole minutes.
    static func timeChart(_ perMinute: [String: [String: Int]]) -> String {
        let minutes = perMinute.keys.compactMap { key in AuditTime.parse(key + "Z").map { ($0 / 60_000, key) } }
        guard let first = minutes.map(\.0).min(), let last = minutes.map(\.0).max() else {
            return "<p class=\"empty\">No requests in this period.</p>"
        }
        let span = last - first + 1
        let bucketMinutes = max(1, (span + 119) / 120)
        let bucketCount = Int((span + bucketMinutes - 1) / bucketMinutes)
        var series: [String: [Int]] = [:]
        for (minute, key) in minutes {
            let bucket = Int((minute - first) / bucketMinutes)
            for (site, count) in perMinute[key] ?? [:] {
                series[site, default: Array(repeating: 0, count: bucketCount)][bucket] += count
            }
        }
        let sites = series.keys.sorted()
        let peak = max(1, series.values.flatMap { $0 }.max() ?? 1)
        let width = 1200, height = 280, left = 56, bottom = 30, top = 10
        let plotWidth = width - left - 10, plotHeight = height - top - bottom
        func x(_ bucket: Int) -> Int { left + (bucketCount == 1 ? plotWidth / 2 : bucket * plotWidth / (bucketCount - 1)) }
        func y(_ count: Int) -> Int { top + plotHeight - count * plotHeight / peak }
        var svg = "<svg viewBox=\"0 0 \(width) \(height)\" role=\"img\">"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"#ffffff\" stroke=\"#e5e7eb\"/>"
        for step in 0...4 {
            let value = peak * step / 4
            svg += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(y(value))\" y2=\"\(y(value))\" stroke=\"#e5e7eb\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y(value) + 4)\" text-anchor=\"end\">\(value)</text>"
        }
        for (index, site) in sites.enumerated() {
            let points = (series[site] ?? []).enumerated().map { "\(x($0.offset)),\(y($0.element))" }.joined(separator: " ")
            let colour = palette[index % palette.count]
            if bucketCount == 1 {
                let count = series[site]?.first ?? 0
                svg += "<circle cx=\"\(x(0))\" cy=\"\(y(count))\" r=\"4\" fill=\"\(colour)\"/>"
            } else {
                svg += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>"
            }
        }
        let firstLabel = AuditTime.format(unixMillis: first * 60_000).prefix(16)
        let lastLabel = AuditTime.format(unixMillis: last * 60_000).prefix(16)
        svg += "<text x=\"\(left)\" y=\"\(height - 8)\">\(escape(String(firstLabel))) UTC</text>"
        svg += "<text x=\"\(left + plotWidth)\" y=\"\(height - 8)\" text-anchor=\"end\">\(escape(String(lastLabel))) UTC · \(bucketMinutes) min per point</text>"
        svg += "</svg><p class=\"legend\">"
        for (index, site) in sites.enumerated() {
            svg += "<span><i style=\"background:\(palette[index % palette.count])\"></i>\(escape(site))</span>"
        }
        return svg + "</p>"
    }
}
