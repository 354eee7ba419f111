import ArgumentParser
import JustGateCore
import JustGateAuditReview

/// `justgate audit summary`: counts by site × operation × outcome with latency percentiles.
struct AuditSummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Count requests by site, operation and outcome, with duration percentiles.",
        discussion: """
            One row per site × operation × outcome: the number of requests and p50/p95/p99 of duration_ms and \
            upstream_ms (within 2 %). Memory grows with the number of rows, not of records.

            Example: justgate audit summary --dir var/audit --since 2026-11-29 --format table
            """
    )

    @OptionGroup var source: AuditSourceOptions
    @OptionGroup var filters: AuditFilterOptions

    @Option(help: "table or json.")
    var format: SummaryFormat = .table

    enum SummaryFormat: String, ExpressibleByArgument, CaseIterable {
        case table
        case json
    }

    func run() throws {
        var summary = AuditSummary()
        do throws(AuditInputError) {
            let filter = try filters.filter()
            try AuditReader.forEachRecord(in: try source.files(), filter: filter) { record, _ in summary.add(record) }
        } catch {
            throw error.exit()
        }
        var output = StandardOutput()
        output.write(format == .table ? summary.table() : summary.json())
        output.flush()
    }
}
