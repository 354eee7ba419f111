import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore

/// Which audit log a review command reads: `--dir`, `--file`, or the `audit.path` of `--config`.
struct AuditSourceOptions: ParsableArguments {
    @Option(help: "Directory of the audit log (reads audit.jsonl and its rotated files audit.jsonl.1, .2, … in order).")
    var dir: String?

    @Option(help: "A single audit file.")
    var file: String?

    @Option(help: "Config whose audit.path (and, for verify, audit.hmac_key) to use when neither --dir nor --file is given.")
    var config: String = "config/justgate.yaml"

    /// The files to read, oldest first, live file last.
    func files() throws(AuditInputError) -> [String] {
        if dir != nil && file != nil { throw AuditInputError("give --dir or --file, not both") }
        if let file {
            guard FileManager.default.fileExists(atPath: file) else { throw AuditInputError("\(file): no such file; check --file") }
            return [file]
        }
        let (directory, base) = try location()
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw AuditInputError("\(directory): cannot list the audit directory (\(error.localizedDescription)); check --dir")
        }
        let ordered = AuditFileNames.ordered(names, base: base)
        guard !ordered.isEmpty else { throw AuditInputError("\(directory): no \(base) or rotated \(base).N files here; check --dir") }
        return ordered.map { directory + "/" + $0 }
    }

    /// The directory and live-file name of the log.
    func location() throws(AuditInputError) -> (directory: String, base: String) {
        if let dir { return (dir, "audit.jsonl") }
        guard let loaded = ConfigFile.load(config) else {
            throw AuditInputError("\(config): cannot read the config for audit.path; pass --dir or --file")
        }
        let path = loaded.config.audit.path
        let url = URL(fileURLWithPath: path)
        return (url.deletingLastPathComponent().path, url.lastPathComponent)
    }
}

/// The filters shared by query, summary and report.
struct AuditFilterOptions: ParsableArguments {
    @Option(help: "Only records at or after this time (2026-11-29, 2026-11-29T17:00Z, or full RFC 3339 UTC).")
    var since: String?

    @Option(help: "Only records before this time (same forms as --since).")
    var until: String?

    @Option(help: "Only this site id.")
    var site: String?

    @Option(help: "Only this operation id, e.g. subscribe.email.")
    var operation: String?

    @Option(help: "Only this status (429) or class (4xx).")
    var status: String?

    @Option(help: "Only this outcome: forwarded, rejected_invalid, rejected_auth, rate_limited, upstream_error, upstream_timeout, client_gone.")
    var outcome: String?

    @Option(help: "Only records of this juid.")
    var juid: String?

    func filter() throws(AuditInputError) -> AuditFilter {
        var filter = AuditFilter()
        filter.since = try since.map { text throws(AuditInputError) in try AuditFilterOptions.time(text, option: "--since") }
        filter.until = try until.map { text throws(AuditInputError) in try AuditFilterOptions.time(text, option: "--until") }
        filter.site = site
        filter.operation = operation
        if let status {
            guard let match = AuditFilter.StatusMatch(status) else {
                throw AuditInputError("--status '\(status)' is not a status (429) or a class (4xx)")
            }
            filter.status = match
        }
        filter.outcome = outcome
        filter.juid = juid
        return filter
    }

    private static func time(_ text: String, option: String) throws(AuditInputError) -> String {
        guard let millis = AuditTime.parse(text) else {
            throw AuditInputError("\(option) '\(text)' is not a time; write 2026-11-29, 2026-11-29T17:00Z or 2026-11-29T17:00:00.000Z (UTC)")
        }
        return AuditTime.format(unixMillis: millis)
    }
}

/// Bad input to an audit command: printed as one line on stderr, exit status 2.
struct AuditInputError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    /// Prints the message and leaves with status 2.
    func exit() -> ExitCode {
        ConfigFile.printError("justgate audit: \(description)")
        return ExitCode(2)
    }
}
