/// `secrets.vault`: where upstream tokens marked `{ vault: PATH, field: NAME }` are read, and how the gateway logs in.
///
/// Tokens kept in one Vault (or OpenBao) are rotated once for every gateway: each gateway reads them again every
/// `refreshSeconds` and uses a changed value for the next request, with no file to copy and no reload.
public struct VaultConfig: Sendable, Equatable {
    /// `https://vault.internal:8200` (no path, no trailing slash). Certificates are always verified over https.
    public var address: String
    /// PEM bundle of the CA that signed Vault's certificate; nil: the system's trust store.
    public var caFile: String?
    /// Sent as `X-Vault-Namespace` (Vault Enterprise and OpenBao namespaces); nil: none.
    public var namespace: String?
    /// How the gateway gets its own Vault token.
    public var auth: VaultAuth
    /// How often every secret is read again, in seconds.
    public var refreshSeconds: Int

    /// The default `refresh_s`: a rotated token reaches every gateway within a minute.
    public static let defaultRefreshSeconds = 60

    /// Builds a config; `ConfigLoader` checks the address before it builds one.
    public init(address: String, caFile: String? = nil, namespace: String? = nil, auth: VaultAuth,
                refreshSeconds: Int = VaultConfig.defaultRefreshSeconds) {
        self.address = address
        self.caFile = caFile
        self.namespace = namespace
        self.auth = auth
        self.refreshSeconds = refreshSeconds
    }
}

/// How the gateway authenticates to Vault. The ids and the token are sources (file or env), read when needed.
public enum VaultAuth: Sendable, Equatable {
    /// `auth/approle/login` with a role id and a secret id; logs in again whenever its token cannot be renewed.
    case appRole(roleID: SecretSource, secretID: SecretSource)
    /// A Vault token given by the operator (renewed while Vault allows it; it cannot be replaced by a login).
    case token(SecretSource)
}
