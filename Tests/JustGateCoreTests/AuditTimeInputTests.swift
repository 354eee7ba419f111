import Testing
@testable import JustGateCore
import JustGateAuditReview

/// `--since`/`--until` as an operator types them: UTC, offsets, local time and relative times.
@Suite struct AuditTimeInputTests {
    /// 2026-11-30T12:00:00Z, a Monday.
    static let noon: Int64 = 1_796_040_000_000
    static let moscow = AuditTimeInput.LocalClock(nowMillis: noon) { _ in 3 * 3600 }

    @Test func utcAndExplicitOffsetsNameOneInstant() {
        let clock = Self.moscow
        #expect(AuditTimeInput.parse("2026-11-30T12:00Z", clock: clock) == Self.noon)
        #expect(AuditTimeInput.parse("2026-11-30 12:00:00.000Z", clock: clock) == Self.noon)
        #expect(AuditTimeInput.parse("2026-11-30T15:00+03:00", clock: clock) == Self.noon)
        #expect(AuditTimeInput.parse("2026-11-30T07:00-0500", clock: clock) == Self.noon)
    }

    @Test func aTimeWithoutZoneIsLocalAsJournalctlReadsIt() {
        #expect(AuditTimeInput.parse("2026-11-30 15:00", clock: Self.moscow) == Self.noon)
        #expect(AuditTimeInput.parse("2026-11-30T15:00:00", clock: Self.moscow) == Self.noon)
        // A date alone is local midnight.
        #expect(AuditTimeInput.parse("2026-11-30", clock: Self.moscow) == Self.noon - 15 * 3_600_000)
        // The log's own parser keeps a missing zone as UTC.
        #expect(AuditTime.parse("2026-11-30T12:00") == Self.noon)
    }

    @Test func theOffsetIsTheOneInForceAtThatTimeNotNow() {
        // A zone at +1 before 2026-11-01 and +2 from then (a DST-like change), read at noon on 2026-11-30.
        let change: Int64 = 1_793_491_200_000
        let clock = AuditTimeInput.LocalClock(nowMillis: Self.noon) { millis in millis < change ? 3600 : 7200 }
        #expect(AuditTimeInput.parse("2026-11-30 14:00", clock: clock) == Self.noon)
        #expect(AuditTimeInput.parse("2026-10-15 13:00", clock: clock) == 1_792_065_600_000)
    }

    @Test func relativeTimesCountBackFromNow() {
        let clock = Self.moscow
        #expect(AuditTimeInput.parse("now", clock: clock) == Self.noon)
        #expect(AuditTimeInput.parse("1h", clock: clock) == Self.noon - 3_600_000)
        #expect(AuditTimeInput.parse("-1h", clock: clock) == Self.noon - 3_600_000)
        #expect(AuditTimeInput.parse("1h ago", clock: clock) == Self.noon - 3_600_000)
        #expect(AuditTimeInput.parse("30m", clock: clock) == Self.noon - 1_800_000)
        #expect(AuditTimeInput.parse("30min", clock: clock) == Self.noon - 1_800_000)
        #expect(AuditTimeInput.parse("90s", clock: clock) == Self.noon - 90_000)
        #expect(AuditTimeInput.parse("2d", clock: clock) == Self.noon - 172_800_000)
        #expect(AuditTimeInput.parse("1w", clock: clock) == Self.noon - 604_800_000)
        // Local midnights: 15:00 in Moscow, so today began at 21:00 UTC the day before.
        #expect(AuditTimeInput.parse("today", clock: clock) == Self.noon - 15 * 3_600_000)
        #expect(AuditTimeInput.parse("yesterday", clock: clock) == Self.noon - 39 * 3_600_000)
    }

    @Test func anythingElseIsRefused() {
        for text in ["last tuesday", "", "1", "h", "1x", "2026-02-30", "2026-11-30T25:00Z", "2026-11-30T12:00+15:00",
                     "2026-11-30T12:00Zjunk", "9999999999h"] {
            #expect(AuditTimeInput.parse(text, clock: Self.moscow) == nil, "\(text)")
        }
    }

    @Test func theRequestIDFilterFindsOneRecord() {
        var record = AuditRecord(time: "2026-11-29T12:00:00.000Z")
        record.requestID = "abc"
        var filter = AuditFilter()
        filter.requestID = "abc"
        #expect(filter.matches(record))
        filter.requestID = "abd"
        #expect(!filter.matches(record))
    }

    @Test func theReportSplitsLimitRefusalsBySiteAndListsTheNewestFailedRequestIDs() {
        var report = AuditReport()
        for index in 0..<25 {
            var record = AuditRecord(time: "2026-11-29T12:00:\(index < 10 ? "0" : "")\(index).000Z")
            record.requestID = "id-\(index)"
            record.site = index % 2 == 0 ? "a" : "b"
            record.outcome = index < 12 ? "rate_limited" : "upstream_error"
            record.status = index < 12 ? 429 : 502
            record.policy = "per-ip"
            report.add(record)
        }
        let html = report.html(chain: .broken(detail: "x:3: <edited>"))
        #expect(html.contains("a · per-ip") && html.contains("b · per-ip"))
        // 13 502s, 7 of them site a (12, 14, …, 24): all listed, newest first.
        #expect(html.contains("<code>id-24</code> <code>id-22</code>"))
        // Site b has 6 of them and 6 refusals; a site's list stops at requestIDsKept.
        var many = AuditReport()
        for index in 0..<(AuditReport.requestIDsKept + 5) {
            var record = AuditRecord(time: "2026-11-29T12:00:00.000Z")
            record.requestID = "r\(index)"
            record.status = 503
            many.add(record)
        }
        let listed = many.html().components(separatedBy: "<code>r").count - 1
        #expect(listed == AuditReport.requestIDsKept)
        #expect(many.html().contains("<code>r14</code> <code>r13</code>") && !many.html().contains("<code>r4</code>"))
        #expect(html.contains("Hash chain BROKEN: x:3: &lt;edited&gt;"))
        #expect(html.range(of: "Hash chain")!.lowerBound < html.range(of: "Requests over time")!.lowerBound)
    }
}
