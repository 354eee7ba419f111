import Foundation
import JustGateCore
import Testing

/// `justgate audit report --html`: a self-contained page that a real browser renders without errors.
@Suite(.serialized)
struct AuditReportTests {
    let cli = CommandLineTests()

    /// Chromium from Debian's `chromium` package (`make deps` installs it), or `nil`.
    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Renders `page` headless; returns the screenshot's size in bytes and the console lines Chromium logged.
    func render(_ page: String, chromium: String) throws -> (pngBytes: Int, console: [String]) {
        let png = NSTemporaryDirectory() + "justgate-report-\(UUID().uuidString).png"
        defer { try? FileManager.default.removeItem(atPath: png) }
        let outcome = try ChildProcess.run(chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1600",
            "--enable-logging=stderr", "--v=0", "--screenshot=\(png)", "file://\(page)",
        ])
        #expect(outcome.status == 0, "chromium failed: \(outcome.stderr.suffix(500))")
        let size = (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        let console = outcome.stderr.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") }
        return (size, console)
    }

    func write(_ text: String, suffix: String = ".html") throws -> String {
        let path = NSTemporaryDirectory() + "justgate-report-\(UUID().uuidString)\(suffix)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A log with every kind of record the report charts, over a few hours.
    func log() throws -> String {
        let directory = NSTemporaryDirectory() + "justgate-report-log-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var chain = AuditChain(hasher: AuditHasher(key: nil))
        var bytes: [UInt8] = []
        let outcomes = [("forwarded", 200), ("forwarded", 200), ("rejected_invalid", 422), ("rate_limited", 429),
                        ("upstream_error", 502), ("rejected_auth", 401)]
        for index in 0..<600 {
            var record = AuditRecord(time: AuditTime.format(unixMillis: 1_796_000_000_000 + Int64(index) * 30_000))
            let (outcome, status) = outcomes[index % outcomes.count]
            record.site = ["horoscope-daily", "news-portal", "<b>odd & site</b>"][index % 3]
            record.operation = ["subscribe.email", "segments.get", "action.save"][index % 3]
            record.outcome = outcome
            record.status = status
            record.durationMicros = 500 + (index * 37) % 20_000
            if outcome == "rejected_invalid" { record.errors = [AuditFieldError(field: "email", code: "invalid_email")] }
            if outcome == "rate_limited" { record.policy = "per-site" }
            chain.seal(&record, into: &bytes)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/audit.jsonl"))
        return directory
    }

    @Test func theReportIsSelfContainedAndRendersInChromiumWithoutErrors() throws {
        guard let chromium = Self.chromium else {
            Issue.record("Chromium is not installed, so the HTML report cannot be checked: run `make deps` (it installs Debian's chromium)")
            return
        }
        let directory = try log()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let page = NSTemporaryDirectory() + "justgate-report-\(UUID().uuidString).html"
        defer { try? FileManager.default.removeItem(atPath: page) }
        let outcome = try cli.run(["audit", "report", "--html", page, "--dir", directory])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("@import") && !html.contains("url("))
        #expect(html.contains("<svg") && html.contains("Rate-limit rejections by site and policy") && html.contains("horoscope-daily · per-site"))
        // The chain's verdict comes first; the bar charts are HTML tables with their numbers (text at the page's
        // size, not an SVG drawing scaled down into a narrow column).
        #expect(html.contains("Hash chain intact: 600 records in 1 file (plain SHA-256, checked WITHOUT a key"))
        #expect(!html.contains("<svg viewBox=\"0 0 610"))
        #expect(html.contains("<td class=\"num\">100</td>"))
        #expect(html.contains("&lt;b&gt;odd &amp; site&lt;/b&gt;") && !html.contains("<b>odd"))

        // Controls: an empty page gives the size of a blank screenshot, and a page that logs an error shows
        // that console messages are seen, so neither check below can pass by accident.
        let blank = try write("<!DOCTYPE html><html><body></body></html>")
        let noisy = try write("<!DOCTYPE html><html><body><script>console.error('control')</script></body></html>")
        defer {
            try? FileManager.default.removeItem(atPath: blank)
            try? FileManager.default.removeItem(atPath: noisy)
        }
        let blankRender = try render(blank, chromium: chromium)
        #expect(try render(noisy, chromium: chromium).console.contains { $0.contains("control") })

        let report = try render(page, chromium: chromium)
        #expect(report.console.isEmpty, "console: \(report.console)")
        #expect(blankRender.pngBytes > 0)
        #expect(report.pngBytes > 4 * blankRender.pngBytes, "screenshot \(report.pngBytes) B vs blank \(blankRender.pngBytes) B")
    }
}
