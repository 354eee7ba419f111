import Foundation
import JustGateCore

/// Reads the audit HMAC key from where `audit.hmac_key` points, at start-up and for `audit verify`.
public enum AuditKeyResolver {
    /// Shortest key accepted: a short key can be guessed, and then the chain proves nothing.
    public static let minimumLength = 16

    /// The key's bytes (surrounding whitespace trimmed), `nil` when no key is configured, or a problem that
    /// names the source and says what to do, never the key.
    /// `path` names the config key in problems: `rate_limit.key_secret` is read the same way.
    public static func resolve(_ source: SecretSource?, environment: some SecretEnvironment,
                               path: String = "audit.hmac_key") -> Result<[UInt8]?, ConfigErrors>
    {
        func problem(_ message: String) -> ConfigErrors {
            ConfigErrors(problems: [ConfigProblem(path: path, line: nil, message: message)])
        }
        let keyName = path.split(separator: ".").last.map(String.init) ?? path
        guard let source else { return .success(Optional<[UInt8]>.none) }
        let raw: String
        switch source {
        case .env(let name):
            guard let value = environment.environmentValue(name) else {
                return .failure(problem("environment variable \(name) is not set; export it or point \(keyName) at a file"))
            }
            raw = value
        case .file(let written):
            // `${CREDENTIALS_DIRECTORY}/audit.key` works as for tokens (systemd's LoadCredential=).
            let path: String
            switch TokenFilePath.expand(written, environment: environment) {
            case .success(let expanded): path = expanded
            case .failure(let failure): return .failure(problem(failure.description))
            }
            do {
                raw = try environment.fileContents(path)
            } catch {
                return .failure(problem("cannot read key file \(written) (\(error)); check the path and its permissions"))
            }
        case .value(let secret):
            raw = secret.reveal()
        case .vault:
            // The loader only accepts `vault:` for upstream tokens; this is here for the switch to be complete.
            return .failure(problem("a Vault source is only read for upstream tokens; use { env: NAME } or { file: PATH }"))
        }
        let key = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard key.utf8.count >= minimumLength else {
            return .failure(problem("""
                the key from \(source) is shorter than \(minimumLength) characters; generate one with \
                `openssl rand -base64 32`
                """))
        }
        return .success(Array(key.utf8))
    }
}
