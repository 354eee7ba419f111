import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore
import JustGateAuditReview

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
    @Option(help: "Only records at or after this time: 2026-11-29T17:00Z (UTC), 2026-11-29 17:00 or 2026-11-29 (local time), 2026-11-29T17:00+03:00, or relative: 30m, 1h, 2d, '1h ago', today, yesterday.")
    var since: String?

    @Option(help: "Only records before this time (same forms as --since).")
    var until: String?

    @Option(name: .customLong("request-id"), help: "Only the record of this request id (the X-Request-Id a site got).")
    var requestID: String?

    @Option(help: "Only this site id.")
    var site: String?

    @Option(help: "Only this operation id, e.g. subscribe.email.")
    var operation: String?

    @Option(help: "Only this status (429) or class (4xx).")
    var status: String?

    @Option(help: ArgumentHelp("Only this outcome: \(AuditFilter.outcomes.joined(separator: ", ")).", valueName: "outcome"))
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
        if let outcome, !AuditFilter.outcomes.contains(outcome) {
            throw AuditInputError("--outcome '\(outcome)' is not an outcome; use one of \(AuditFilter.outcomes.joined(separator: ", "))")
        }
        filter.outcome = outcome
        filter.juid = juid
        filter.requestID = requestID
        return filter
    }

    private static func time(_ text: String, option: String) throws(AuditInputError) -> String {
        guard let millis = AuditTimeInput.parse(text, clock: localClock()) else {
            throw AuditInputError("\(option) '\(text)' is not a time; write \(AuditTimeInput.forms)")
        }
        return AuditTime.format(unixMillis: millis)
    }

    /// Now and the machine's time zone (TZ, /etc/localtime), as journalctl reads local times.
    private static func localClock() -> AuditTimeInput.LocalClock {
        let nowMillis = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        return AuditTimeInput.LocalClock(nowMillis: nowMillis) { millis in
            TimeZone.current.secondsFromGMT(for: Date(timeIntervalSince1970: Double(millis) / 1000))
        }
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

/// `--event` of query and tail: which kind of record to print. Request records unless asked, as before reloads
/// were recorded; summary and report count requests only, so they do not take it.
struct AuditEventOption: ParsableArguments {
    /// The values `--event` takes: every `AuditRecord.Event` and `all`.
    static let values = AuditRecord.Event.allCases.map(\.rawValue) + ["all"]

    @Option(help: ArgumentHelp("Only records of this event: \(AuditEventOption.values.joined(separator: ", ")) "
                               + "(reload: every reload, applied or refused, and what it changed).", valueName: "event"))
    var event: String = AuditRecord.Event.request.rawValue

    /// `filter` narrowed to the event asked for.
    func applied(to filter: AuditFilter) throws(AuditInputError) -> AuditFilter {
        var filter = filter
        if event == "all" {
            filter.event = nil
        } else if let chosen = AuditRecord.Event(rawValue: event) {
            filter.event = chosen
        } else {
            throw AuditInputError("--event '\(event)' is not an event; use one of \(AuditEventOption.values.joined(separator: ", "))")
        }
        return filter
    }
}
