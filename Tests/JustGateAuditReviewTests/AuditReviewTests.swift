import Testing
@testable import JustGateAuditReview
@testable import JustGateCore

/// The pure parts of `justgate audit`: line splitting, filters, percentiles, the summary and the report page.
@Suite struct AuditReviewTests {
    @Test func linesSplitAcrossChunksAndTheUnfinishedTailIsKept() {
        var splitter = AuditLineSplitter()
        var lines: [String] = []
        for chunk in ["ab", "c\nde", "f\n\ng", "hi"] {
            let tooLong = Array(chunk.utf8).withUnsafeBytes { raw in
                splitter.feed(raw) { bytes, number in lines.append("\(number):\(String(decoding: bytes, as: UTF8.self))") }
            }
            #expect(tooLong == nil)
        }
        #expect(lines == ["1:abc", "2:def", "3:"])
        #expect(splitter.unterminated.map { String(decoding: $0.bytes, as: UTF8.self) } == "ghi")
        #expect(splitter.unterminated?.line == 4)
    }

    @Test func aLineWithoutEndIsRefusedInsteadOfBuffered() {
        var splitter = AuditLineSplitter()
        let chunk = [UInt8](repeating: 0x61, count: AuditLineSplitter.maxLineBytes + 1)
        let tooLong = chunk.withUnsafeBytes { raw in splitter.feed(raw) { _, _ in } }
        #expect(tooLong?.line == 1)
    }

    @Test func filtersMatchEveryGivenCondition() {
        var record = AuditRecord(time: "2026-11-29T12:00:00.000Z")
        record.site = "news"
        record.status = 429
        record.outcome = "rate_limited"
        var filter = AuditFilter()
        #expect(filter.matches(record))
        filter.status = AuditFilter.StatusMatch("4xx")
        filter.since = "2026-11-29T00:00:00.000Z"
        filter.until = "2026-11-29T12:00:00.001Z"
        #expect(filter.matches(record))
        filter.until = "2026-11-29T12:00:00.000Z"
        #expect(!filter.matches(record))
        filter.until = nil
        filter.site = "other"
        #expect(!filter.matches(record))
        #expect(AuditFilter.StatusMatch("4XX") == .classOf(4) && AuditFilter.StatusMatch("429") == .exact(429))
        #expect(AuditFilter.StatusMatch("9xx") == nil && AuditFilter.StatusMatch("abc") == nil)
        #expect(!AuditFilter().matches(AuditRecord(time: "x", event: .chainStart)))
    }

    @Test func percentilesAreWithinTwoPercent() throws {
        var histogram = LatencyHistogram()
        for micros in 1...10_000 { histogram.add(micros: micros) }
        let p50 = try #require(histogram.percentile(0.5))
        let p99 = try #require(histogram.percentile(0.99))
        #expect(abs(p50 - 5000) <= 100)
        #expect(abs(p99 - 9900) <= 198)
        #expect(LatencyHistogram().percentile(0.5) == nil)
    }

    @Test func theSummaryCountsGroupsMostRequestsFirst() {
        var summary = AuditSummary()
        for index in 0..<10 {
            summary.add(site: index < 7 ? "a" : "b", operation: "op", outcome: "forwarded", durationMicros: 1000, upstreamMicros: nil)
        }
        #expect(summary.rows.map(\.count) == [7, 3])
        let table = summary.table().split(separator: "\n")
        #expect(table.count == 3)
        #expect(table[1].hasPrefix("a  ") && table[1].contains(" 7 ") && table[1].hasSuffix("-"))
        #expect(summary.json().hasPrefix("{\"total\":10,\"groups\":[{\"site\":\"a\""))
    }

    @Test func theReportEscapesWhatTheLogHolds() {
        var report = AuditReport()
        var record = AuditRecord(time: "2026-11-29T12:00:00.000Z")
        record.site = "<script>alert(1)</script>"
        record.outcome = "forwarded"
        record.status = 200
        report.add(record)
        let html = report.html()
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(AuditReport().html().contains("No requests in this period."))
    }
}
