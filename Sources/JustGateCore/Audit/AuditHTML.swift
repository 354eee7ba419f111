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
        body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#111827;background:#ffffff}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}
        .meta{color:#6b7280;margin:0 0 16px}
        section{border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;margin:0 0 16px;background:#f9fafb}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:16px}
        .grid section{margin:0}
        svg{display:block;max-width:100%;height:auto}
        svg text{font:12px system-ui,sans-serif;fill:#374151}
        .legend span{display:inline-block;margin-right:14px}
        .legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
        .empty{color:#6b7280;font-style:italic}
        """

    /// Horizontal bars: label, value (for the length) and the text shown at the end of the bar.
    static func bars(_ rows: [(String, Double, String)]) -> String {
        guard let largest = rows.map(\.1).max(), largest > 0 else { return "<p class=\"empty\">None in this period.</p>" }
        let rowHeight = 24, labelWidth = 220, barWidth = 300
        var svg = "<svg viewBox=\"0 0 \(labelWidth + barWidth + 90) \(rows.count * rowHeight + 4)\" role=\"img\">"
        for (index, row) in rows.enumerated() {
            let y = index * rowHeight
            let width = max(1, Int(Double(barWidth) * row.1 / largest))
            let label = row.0.count > 34 ? String(row.0.prefix(33)) + "…" : row.0
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + 16)\" text-anchor=\"end\">\(escape(label))</text>"
            svg += "<rect x=\"\(labelWidth)\" y=\"\(y + 4)\" width=\"\(width)\" height=\"16\" rx=\"2\" fill=\"\(palette[index % palette.count])\"/>"
            svg += "<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 16)\">\(escape(row.2))</text>"
        }
        return svg + "</svg>"
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
        let width = 960, height = 260, left = 50, bottom = 30, top = 10
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
