/// Where a secret comes from, as written in the config (`{ env: NAME }`, `{ file: PATH }`, `{ value: ... }`
/// or `{ vault: PATH, field: NAME }`).
///
/// Keeping the source rather than the value lets the config be loaded, printed and checked without reading
/// any secret; `SecretResolver` reads them all at once, at start-up, and reports every failure together.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    /// Read from this environment variable.
    case env(String)
    /// Read from this file, trimmed of surrounding whitespace. A leading `${CREDENTIALS_DIRECTORY}` is filled in
    /// when the token is read (`TokenFilePath`), for tokens handed over by systemd's `LoadCredential=`.
    case file(String)
    /// Written inline in the config; allowed, but the loader warns about it.
    case value(Secret)
    /// Read from a Vault (or OpenBao) KV secret (`secrets.vault`), again every `refresh_s`; upstream tokens only.
    case vault(VaultSecretReference)

    /// Names the kind of source and the variable or path, never the value: safe to log.
    public var description: String {
        switch self {
        case .env(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        case .value: "inline value in the config"
        case .vault(let reference): reference.description
        }
    }
}
