import ArgumentParser
import Foundation
import JustGateCore

/// `justgate audit report --html FILE`: one self-contained page to look at.
struct AuditReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report of the audit log.",
        discussion: """
            One page with inline SVG and CSS (no scripts, no fonts or files fetched): requests over time per \
            site, outcomes, status classes, the slowest operations (p95), rejected fields by code and \
            rate-limit rejections by policy. Takes the same filters as query.

            Example: justgate audit report --html report.html --dir var/audit --since 2026-11-29
            """
    )

    @OptionGroup var source: AuditSourceOptions
    @OptionGroup var filters: AuditFilterOptions

    @Option(help: "Where to write the HTML page.")
    var html: String

    func run() throws {
        var report = AuditReport()
        do throws(AuditInputError) {
            let filter = try filters.filter()
            try AuditReader.forEachRecord(in: try source.files(), filter: filter) { record, _ in report.add(record) }
        } catch {
            throw error.exit()
        }
        do {
            try Data(report.html().utf8).write(to: URL(fileURLWithPath: html))
        } catch {
            throw AuditInputError("\(html): cannot write the report (\(error.localizedDescription)); check the path").exit()
        }
        print("\(html): \(report.total) requests")
    }
}
