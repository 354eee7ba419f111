import Testing
@testable import JustGateCore
import JustGateAuditReview

/// `TerminalSafeText`: what a foreign audit record or config text may hold never reaches a terminal as a control.
@Suite struct TerminalSafeTextTests {
    @Test func everyControlIsEscapedVisiblyAndPlainTextIsUnchanged() {
        #expect(TerminalSafeText.escaped("news-portal café ✓") == "news-portal café ✓")
        #expect(TerminalSafeText.escaped("a\u{1B}[2Jb\u{07}c\rd\ne\tf\u{7F}g\u{0}") == #"a\x1B[2Jb\x07c\rd\ne\tf\x7Fg\x00"#)
        // C1 controls (CSI as one character) and the characters that reorder text on display.
        #expect(TerminalSafeText.escaped("x\u{9B}31my\u{202E}z\u{2028}") == #"x\u{9B}31my\u{202E}z\u{2028}"#)
    }

    @Test func noScalarThatNeedsEscapingSurvives() {
        let hostile = String(String.UnicodeScalarView((0...0x2070).compactMap(Unicode.Scalar.init)))
        let escaped = TerminalSafeText.escaped(hostile)
        #expect(!escaped.unicodeScalars.contains(where: TerminalSafeText.needsEscaping))
        for value in [0x00, 0x1B, 0x7F, 0x80, 0x9F, 0x2066] {
            #expect(TerminalSafeText.needsEscaping(Unicode.Scalar(value)!))
        }
    }

    /// The summary table escapes the text it takes from records.
    @Test func theSummaryTableEscapesRecordText() {
        var summary = AuditSummary()
        summary.add(site: "evil\u{1B}]0;pwned\u{07}", operation: "op\r\nFORGED 1 2 3", outcome: "forwarded",
                    durationMicros: 1000, upstreamMicros: nil)
        let table = summary.table()
        #expect(!table.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\r" })
        #expect(table.split(separator: "\n").count == 2)
        #expect(table.contains(#"evil\x1B]0;pwned\x07"#) && table.contains(#"op\r\nFORGED"#))
    }
}
