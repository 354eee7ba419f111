import ArgumentParser
import Foundation
import JustGateApp
import JustGateCore

/// `justgate audit verify`: checks the hash chain of the whole log.
struct AuditVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit log's hash chain.",
        discussion: """
            Reads every file in order and checks each record's hash, its link to the record before and its \
            sequence number. Exit 0 when the chain is intact (it prints the last seq and hash: note them \
            down as an outside anchor); exit 1 naming the first broken file and line and why (edited, \
            deleted, reordered, truncated, a file missing from the middle, re-signed without the key); \
            exit 2 on bad input, and when the log is signed with audit.hmac_key and no key was given (its \
            chain_start record says so; without the key an HMAC log can be neither passed nor failed). Give the \
            key with --key-env, --key-file, or the config's audit.hmac_key when neither --dir nor --file is given.

            Without a key, a plain SHA-256 log that verifies is reported as checked without a key: that shows \
            the files were not damaged by accident, not that nobody rewrote them (anyone who can write the files \
            can recompute a plain chain). Only a check with the key catches a log rewritten as plain SHA-256 \
            (every such record is then "re-signed without the key").

            Example: justgate audit verify --dir /var/lib/justgate/audit --key-file /run/credentials/audit.key
            """
    )

    @OptionGroup var source: AuditSourceOptions

    @OptionGroup var key: AuditKeyOptions

    func run() throws {
        let check: AuditChainCheck.Result
        let files: [String]
        do throws(AuditInputError) {
            let key = try key.resolve(for: source)
            files = try source.files()
            check = try AuditChainCheck.run(files: files, key: key)
        } catch {
            throw error.exit()
        }
        let verifier = check.verifier
        for notice in verifier.notices { print(TerminalSafeText.escaped("note: \(notice)")) }
        if let broken = check.broken, broken.kind == .keyNeeded {
            ConfigFile.printError("justgate audit verify: KEY NEEDED \(broken)")
            throw ExitCode(2)
        }
        if let broken = check.broken {
            ConfigFile.printError("BROKEN \(broken)")
            throw ExitCode(1)
        }
        if let last = verifier.last {
            print("OK: \(verifier.records) records in \(files.count) file\(files.count == 1 ? "" : "s") (\(AuditChainCheck.signing(verifier))); last seq \(last.seq) hash \(TerminalSafeText.escaped(last.hash))")
        } else {
            print("OK: the log is empty")
        }
    }
}
