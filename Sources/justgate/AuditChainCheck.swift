import ArgumentParser
import JustGateApp
import JustGateCore
import JustGateAuditReview

/// The audit HMAC key options of `audit verify` and `audit report`.
struct AuditKeyOptions: ParsableArguments {
    @Option(help: "Environment variable holding the audit HMAC key.")
    var keyEnv: String?

    @Option(help: "File holding the audit HMAC key.")
    var keyFile: String?

    /// The key from `--key-env`/`--key-file`, else the config's `audit.hmac_key` when the log is the config's
    /// (neither `--dir` nor `--file`); nil when none is given.
    func resolve(for source: AuditSourceOptions) throws(AuditInputError) -> [UInt8]? {
        let secret: SecretSource?
        switch (keyEnv, keyFile) {
        case (.some, .some): throw AuditInputError("give --key-env or --key-file, not both")
        case (.some(let name), nil): secret = .env(name)
        case (nil, .some(let path)): secret = .file(path)
        case (nil, nil):
            if source.dir == nil && source.file == nil, let loaded = ConfigFile.load(source.config) {
                secret = loaded.config.audit.hmacKey
            } else {
                secret = nil
            }
        }
        switch AuditKeyResolver.resolve(secret, environment: ProcessSecretEnvironment()) {
        case .success(let key): return key
        case .failure(let errors): throw AuditInputError(errors.problems.map(\.message).joined(separator: "; "))
        }
    }
}

/// One pass of the chain verifier over the log's files, as `audit verify` and `audit report` run it.
enum AuditChainCheck {
    struct Result {
        var verifier: AuditChainVerifier
        /// The first break, or nil when the chain is intact.
        var broken: AuditChainVerifier.Problem?
    }

    static func run(files: [String], key: [UInt8]?) throws(AuditInputError) -> Result {
        var verifier = AuditChainVerifier(hasher: AuditHasher(key: key))
        var broken: AuditChainVerifier.Problem?
        var currentFile = ""
        func check(_ bytes: ArraySlice<UInt8>, _ path: String, _ number: Int, terminated: Bool) {
            guard broken == nil else { return }
            do throws(AuditChainVerifier.Problem) {
                if path != currentFile {
                    currentFile = path
                    try verifier.beginFile(path)
                }
                try verifier.check(bytes, line: number, terminated: terminated)
            } catch {
                broken = error
            }
        }
        try AuditReader.forEachLine(in: files, line: { bytes, path, number throws(AuditInputError) in
            check(bytes, path, number, terminated: true)
        }, unterminated: { bytes, path, number throws(AuditInputError) in
            check(bytes, path, number, terminated: false)
        })
        if broken == nil {
            do throws(AuditChainVerifier.Problem) { try verifier.finish() } catch { broken = error }
        }
        return Result(verifier: verifier, broken: broken)
    }

    /// How the chain was checked, in words: with the key, or without one and what that cannot show.
    static func signing(_ verifier: AuditChainVerifier) -> String {
        verifier.isKeyed ? "HMAC-SHA-256"
            : "plain SHA-256, checked WITHOUT a key: this shows accidental damage, not a rewrite by someone who can write the files"
    }

    /// The verdict as the report states it.
    static func reportChain(files: [String], key: [UInt8]?) throws(AuditInputError) -> AuditReportChain {
        let result = try run(files: files, key: key)
        if let broken = result.broken, broken.kind == .keyNeeded {
            return .unchecked(reason: "\(broken); pass --key-file or --key-env (or the config's audit.hmac_key)")
        }
        if let broken = result.broken { return .broken(detail: "\(broken)") }
        guard let last = result.verifier.last else { return .intact(detail: "the log is empty") }
        return .intact(detail: "\(result.verifier.records) records in \(files.count) file\(files.count == 1 ? "" : "s") "
            + "(\(signing(result.verifier))); last seq \(last.seq) hash \(last.hash)")
    }
}
