/// Warns about secret files (upstream tokens, the audit key, Vault credentials) that users other than the gateway's may read.
///
/// Why: a token file at 0644 lets every account on the host call the upstream as any site; an audit key
/// others can read lets them rewrite the audit log and re-sign it. justgate still starts (the file may sit in
/// a directory nobody else can enter, and refusing would turn a careless mode into an outage), but
/// `check-config` and the start-up log name the file and its mode, never its content.
///
/// Pure: the modes come from `SecretEnvironment.filePermissions`, read where the files are read.
public enum SecretFilePermissions {
    /// Permission bits that make a secret file a warning: anything for other users, and write for the group
    /// (a writer can swap the secret for one of their own). Group read is not one: `root:justgate 0640` is how
    /// deploy/README.md hands a service its token files (readable by the service, changeable by root only), and
    /// whether a group holds the gateway's user alone cannot be seen from here.
    public static let tooOpen = 0o026

    /// One warning per secret file whose mode lets group or others read or write it, with the config key it
    /// came from; empty when every file is private (or its mode cannot be read).
    public static func warnings(for config: GatewayConfig, environment: some SecretEnvironment) -> [ConfigProblem] {
        var sources: [(key: String, what: String, source: SecretSource)] = config.sites.enumerated().map { index, site in
            ("sites[\(index)].upstream_token", "site '\(site.id)': token file", site.upstreamToken)
        }
        if config.audit.enabled, let key = config.audit.hmacKey {
            sources.append(("audit.hmac_key", "audit key file", key))
        }
        if let secret = config.rateLimit.keySecret {
            sources.append(("rate_limit.key_secret", "rate-limit key secret file", secret))
        }
        switch config.vault?.auth {
        case .appRole(let roleID, let secretID)?:
            sources.append(("secrets.vault.approle.role_id", "Vault AppRole role_id file", roleID))
            sources.append(("secrets.vault.approle.secret_id", "Vault AppRole secret_id file", secretID))
        case .token(let token)?:
            sources.append(("secrets.vault.token", "Vault token file", token))
        case nil: break
        }
        var warnings: [ConfigProblem] = []
        var seen = Set<String>()
        for (key, what, source) in sources {
            guard case .file(let written) = source,
                  case .success(let path) = TokenFilePath.expand(written, environment: environment),
                  let mode = environment.filePermissions(path), mode & tooOpen != 0,
                  seen.insert(path).inserted
            else { continue }
            warnings.append(ConfigProblem(path: key, line: nil, message: """
                \(what) \(path) is \(who(mode)) (mode \(octal(mode))); only the gateway's user should \
                read it: chmod 600 \(path) (or 640 with a group of the gateway's user alone, owned by root)
                """, isWarning: true))
        }
        return warnings
    }

    /// Who besides the owner may use a file of `mode`, in words.
    static func who(_ mode: Int) -> String {
        var parts: [String] = []
        if mode & 0o060 != 0 { parts.append("its group") }
        if mode & 0o006 != 0 { parts.append("all other users") }
        let verbs = [mode & 0o044 != 0 ? "readable" : nil, mode & 0o022 != 0 ? "writable" : nil].compactMap { $0 }
        return verbs.joined(separator: " and ") + " by " + parts.joined(separator: " and ")
    }

    /// Four octal digits, such as `0644`.
    static func octal(_ mode: Int) -> String {
        let digits = String(mode & 0o7777, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
