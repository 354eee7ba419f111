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

    @Option(help: "Environment variable holding the audit HMAC key.")
    var keyEnv: String?

    @Option(help: "File holding the audit HMAC key.")
    var keyFile: String?

    func run() throws {
        let key: [UInt8]?
        let files: [String]
        do throws(AuditInputError) {
            key = try resolveKey()
            files = try source.files()
        } catch {
            throw error.exit()
        }
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: key))
        var broken: AuditChainVerifier.Problem?
        var currentFile = ""
        do throws(AuditInputError) {
            try AuditReader.forEachLine(in: files, line: { bytes, path, number throws(AuditInputError) in
                guard broken == nil else { return }
                do throws(AuditChainVerifier.Problem) {
                    if path != currentFile {
                        currentFile = path
                        try verifier.beginFile(path)
                    }
                    try verifier.check(bytes, line: number, terminated: true)
                } catch {
                    broken = error
                }
            }, unterminated: { bytes, path, number throws(AuditInputError) in
                guard broken == nil else { return }
                do throws(AuditChainVerifier.Problem) {
                    if path != currentFile {
                        currentFile = path
                        try verifier.beginFile(path)
                    }
                    try verifier.check(bytes, line: number, terminated: false)
                } catch {
                    broken = error
                }
            })
            if broken == nil {
                do throws(AuditChainVerifier.Problem) { try verifier.finish() } catch { broken = error }
            }
        } catch {
            throw error.exit()
        }
        for notice in verifier.notices { print(TerminalSafeText.escaped("note: \(notice)")) }
        if let broken, broken.kind == .keyNeeded {
            ConfigFile.printError("justgate audit verify: KEY NEEDED \(broken)")
            throw ExitCode(2)
        }
        if let broken {
            ConfigFile.printError("BROKEN \(broken)")
            throw ExitCode(1)
        }
        let signing = verifier.isKeyed
            ? "HMAC-SHA-256"
            : "plain SHA-256, checked WITHOUT a key: this shows accidental damage, not a rewrite by someone who can write the files"
        if let last = verifier.last {
            print("OK: \(verifier.records) records in \(files.count) file\(files.count == 1 ? "" : "s") (\(signing)); last seq \(last.seq) hash \(TerminalSafeText.escaped(last.hash))")
        } else {
            print("OK: the log is empty")
        }
    }

    private func resolveKey() throws(AuditInputError) -> [UInt8]? {
        let source: SecretSource?
        switch (keyEnv, keyFile) {
        case (.some, .some): throw AuditInputError("give --key-env or --key-file, not both")
        case (.some(let name), nil): source = .env(name)
        case (nil, .some(let path)): source = .file(path)
        case (nil, nil):
            if self.source.dir == nil && self.source.file == nil, let loaded = ConfigFile.load(self.source.config) {
                source = loaded.config.audit.hmacKey
            } else {
                source = nil
            }
        }
        switch AuditKeyResolver.resolve(source, environment: ProcessSecretEnvironment()) {
        case .success(let key): return key
        case .failure(let errors): throw AuditInputError(errors.problems.map(\.message).joined(separator: "; "))
        }
    }
}
