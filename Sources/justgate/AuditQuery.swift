import ArgumentParser
import JustGateCore

/// `justgate audit query`: the records that match, as JSON lines or a table.
struct AuditQuery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Print the audit records that match the filters.",
        discussion: """
            Prints matching request records, oldest first: as the JSON lines they are stored as \
            (--format jsonl, for jq) or as an aligned table. --event reload prints the reloads instead (who \
            asked, applied or refused, what changed), --event all every record.

            Example: justgate audit query --dir var/audit --since 2026-11-29T09:00Z --status 4xx --format table
            """
    )

    @OptionGroup var source: AuditSourceOptions
    @OptionGroup var filters: AuditFilterOptions
    @OptionGroup var events: AuditEventOption

    @Option(help: "jsonl (the stored lines) or table.")
    var format: AuditOutputFormat = .jsonl

    func run() throws {
        var output = StandardOutput()
        do throws(AuditInputError) {
            let filter = try events.applied(to: filters.filter())
            let files = try source.files()
            if format == .table { output.write(AuditTableLine.header) }
            try AuditReader.forEachRecord(in: files, filter: filter) { record, bytes in
                switch format {
                case .jsonl:
                    output.write(bytes)
                    output.write(CollectionOfOne(0x0A))
                case .table:
                    output.write(AuditTableLine.line(record))
                }
            }
            output.flush()
        } catch {
            output.flush()
            throw error.exit()
        }
    }
}
