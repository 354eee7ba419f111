import ArgumentParser
import Foundation
import JustGateCore

/// `justgate audit`: reading the audit log without other tools.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Review and verify the audit log.",
        discussion: """
            Every command streams the log (rotated files oldest first, then the live one), so a log of any \
            size is read in bounded memory. Bad input (an unparsable --since, a file that is not an audit \
            log) is reported with the file and line, exit status 2.

            Examples:
              justgate audit summary --dir var/audit --since 2026-11-29
              justgate audit query --dir var/audit --site news-portal --status 4xx --format table
              justgate audit verify --dir var/audit --key-env JUSTGATE_AUDIT_KEY
              justgate audit tail -f --dir var/audit
              justgate audit report --html report.html --dir var/audit
            """,
        subcommands: [AuditQuery.self, AuditSummaryCommand.self, AuditVerify.self, AuditTailCommand.self, AuditReportCommand.self]
    )
}

/// How query and tail print records.
enum AuditOutputFormat: String, ExpressibleByArgument, CaseIterable {
    case jsonl
    case table
}

/// One aligned line per record for `--format table`. Every cell is escaped (`TerminalSafeText`): a record may
/// come from a foreign or tampered file, and its text must not drive the terminal or forge a line.
enum AuditTableLine {
    static let header = "TIME                      SITE              OPERATION               OUTCOME           STATUS  DURATION_MS  "
        + "REQUEST_ID                        DETAIL\n"

    /// One record; DETAIL says why a request was refused or failed: why no upstream answer came (`reason`), the
    /// rate-limit policy, or the rejected fields as `field:code` (the log's own words); for other records, who
    /// asked and the note.
    static func line(_ record: AuditRecord) -> String {
        func cell(_ text: String?, _ width: Int) -> String {
            let value = text.map(TerminalSafeText.escaped) ?? "-"
            return value.count >= width ? value + " " : value + String(repeating: " ", count: width - value.count)
        }
        let status = record.status.map(String.init) ?? "-"
        let duration = record.durationMicros.map { "\($0 / 1000).\(String(format: "%03d", $0 % 1000))" } ?? "-"
        // A record that is not a request's (a reload, the chain's own) names its event in OUTCOME, and its
        // DETAIL is who asked and its note.
        let outcome = record.event == .request ? record.outcome
            : [record.event.rawValue, record.outcome].compactMap { $0 }.joined(separator: " ")
        return cell(record.time, 26) + cell(record.site, 18) + cell(record.operation, 24) + cell(outcome, 18)
            + String(repeating: " ", count: max(0, 6 - status.count)) + status + "  "
            + String(repeating: " ", count: max(0, 11 - duration.count)) + duration + "  " + cell(record.requestID, 34)
            + TerminalSafeText.escaped(detail(record)) + "\n"
    }

    static func detail(_ record: AuditRecord) -> String {
        if record.event != .request {
            let text = [record.client, record.note].compactMap { $0 }.joined(separator: ": ")
            return text.isEmpty ? "-" : text
        }
        var parts: [String] = []
        if let reason = record.reason { parts.append("reason=\(reason)") }
        if let policy = record.policy { parts.append("policy=\(policy)") }
        if !record.errors.isEmpty {
            parts.append("errors=" + record.errors.map { "\($0.field ?? "(unknown)"):\($0.code)" }.joined(separator: ","))
        }
        if let note = record.note { parts.append(note) }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }
}
