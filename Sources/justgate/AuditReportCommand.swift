import ArgumentParser
import Foundation
import JustGateCore
import JustGateAuditReview

/// `justgate audit report --html FILE`: one self-contained page to look at.
struct AuditReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML report of the audit log.",
        discussion: """
            One page with inline SVG and CSS (no scripts, no fonts or files fetched): the hash chain's verdict \
            first (the whole log is checked, as audit verify does, with --key-env/--key-file or the config's \
            audit.hmac_key), then requests over time per site with a table of their numbers, outcomes, status \
            classes, the slowest operations (p95), rejected fields by code, rate-limit rejections by site and \
            policy, and the newest request ids of 5xx answers and refused requests per site. Takes the same \
            filters as query (the chain is always checked whole).

            Example: justgate audit report --html report.html --dir var/audit --since 2026-11-29
            """
    )

    @OptionGroup var source: AuditSourceOptions
    @OptionGroup var filters: AuditFilterOptions
    @OptionGroup var key: AuditKeyOptions

    @Flag(help: "Do not check the hash chain (it reads the whole log a second time).")
    var skipVerify = false

    @Option(help: "Where to write the HTML page.")
    var html: String

    func run() throws {
        var report = AuditReport()
        let chain: AuditReportChain
        do throws(AuditInputError) {
            let filter = try filters.filter()
            let files = try source.files()
            if skipVerify {
                chain = .unchecked(reason: "--skip-verify was given; run justgate audit verify")
            } else {
                chain = try AuditChainCheck.reportChain(files: files, key: try key.resolve(for: source))
            }
            try AuditReader.forEachRecord(in: files, filter: filter) { record, _ in report.add(record) }
        } catch {
            throw error.exit()
        }
        do {
            try Data(report.html(chain: chain).utf8).write(to: URL(fileURLWithPath: html))
        } catch {
            throw AuditInputError("\(html): cannot write the report (\(error.localizedDescription)); check the path").exit()
        }
        print("\(html): \(report.total) requests")
    }
}
