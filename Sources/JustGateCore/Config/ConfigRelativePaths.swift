/// A path written relative in the config file, and the path the gateway uses for it.
///
/// Kept on the loaded config so `check-config` can say where each written path lands without loading twice.
public struct ResolvedConfigPath: Sendable, Equatable {
    /// The config key, e.g. `sites[0].upstream_token.file` or `audit.path`.
    public var key: String
    /// The path as the file wrote it.
    public var written: String
    /// The config file's directory joined with `written`.
    public var resolved: String

    /// Records one resolution.
    public init(key: String, written: String, resolved: String) {
        self.key = key
        self.written = written
        self.resolved = resolved
    }
}

/// Relative paths written in a config file mean "next to this file", not "next to wherever `serve` was started".
///
/// Why: the same config must open the same token files whether it is checked from a shell in the repository,
/// started by systemd in its StateDirectory or reloaded later; a path that depends on the working directory
/// is a token that works in `check-config` and is missing in production. The built-in default `audit.path`
/// (not written in the file) is left relative to the working directory on purpose: systemd's StateDirectory is
/// the working directory, and gateways started side by side with configs in one directory keep separate logs.
///
/// Joining is plain string work, no filesystem access, so the core stays pure: `.` segments and repeated
/// slashes are dropped, `..` is kept as written, because folding `a/link/..` lexically would be wrong when
/// `link` is a symbolic link; the kernel resolves it when the file is opened.
public enum ConfigRelativePaths {
    /// Whether the loader joins this path to the config file's directory: not absolute, and not starting with
    /// a variable (`${CREDENTIALS_DIRECTORY}/…` is absolute once expanded; any other `$` is reported elsewhere).
    public static func isRelative(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.hasPrefix("$")
    }

    /// `directory` and `path` joined, with `.` segments and empty segments dropped and `..` kept.
    /// An absolute `path` comes back normalised but not joined; an empty `directory` means the working directory.
    public static func join(_ path: String, to directory: String) -> String {
        let whole = path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
        let segments = whole.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let joined = segments.joined(separator: "/")
        if whole.hasPrefix("/") { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }

    /// Joins every relative path the file wrote to `directory`, in place, and lists what it changed.
    ///
    /// - Parameters:
    ///   - config: The config as decoded, paths as written.
    ///   - auditPathWritten: Whether the file wrote `audit.path`; the built-in default is left alone.
    ///   - outboxPathWritten: The same for `outbox.path`.
    ///   - directory: The config file's directory.
    static func resolve(_ config: inout GatewayConfig, auditPathWritten: Bool, outboxPathWritten: Bool = false,
                        against directory: String) {
        var resolved: [ResolvedConfigPath] = []
        func joined(_ key: String, _ path: String) -> String {
            guard isRelative(path) else { return path }
            let absolute = join(path, to: directory)
            resolved.append(ResolvedConfigPath(key: key, written: path, resolved: absolute))
            return absolute
        }
        func joined(_ key: String, _ source: SecretSource?) -> SecretSource? {
            guard case .file(let path) = source else { return source }
            return .file(joined(key, path))
        }
        for index in config.sites.indices {
            if case .file(let path) = config.sites[index].upstreamToken {
                config.sites[index].upstreamToken = .file(joined("sites[\(index)].upstream_token.file", path))
            }
        }
        config.upstream.caFile = config.upstream.caFile.map { joined("upstream.ca_file", $0) }
        if auditPathWritten { config.audit.path = joined("audit.path", config.audit.path) }
        if outboxPathWritten { config.outbox.path = joined("outbox.path", config.outbox.path) }
        config.audit.hmacKey = joined("audit.hmac_key.file", config.audit.hmacKey)
        config.rateLimit.keySecret = joined("rate_limit.key_secret.file", config.rateLimit.keySecret)
        if var vault = config.vault {
            vault.caFile = vault.caFile.map { joined("secrets.vault.ca_file", $0) }
            switch vault.auth {
            case .appRole(let roleID, let secretID):
                vault.auth = .appRole(roleID: joined("secrets.vault.approle.role_id.file", roleID) ?? roleID,
                                      secretID: joined("secrets.vault.approle.secret_id.file", secretID) ?? secretID)
            case .token(let token):
                vault.auth = .token(joined("secrets.vault.token.file", token) ?? token)
            }
            config.vault = vault
        }
        config.relativePaths = resolved
    }
}
