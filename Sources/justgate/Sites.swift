#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import JustGateApp
import JustGateCore

/// `justgate sites`: the inventory an operator checks before and after rotating a key or a token.
struct Sites: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List each site's keys, token source and rate limits.",
        discussion: """
            For every site: its keys by fingerprint (the first 12 hex digits of the key's SHA-256; never the \
            key) with their expiry and whether they are current or expired (keys kept in Vault are read there and \
            shown with their path and KV version), where its upstream token comes \
            from (env var, file, or Vault path with its KV version and when it was read; never the value), whether it can be read now and its fingerprint (the first \
            12 hex digits of its SHA-256, to confirm a rotation), and its rate limits in words. Exits 0 when every site has a current key and a readable token, 1 otherwise, so it can run \
            after a rotation as a check.

            While the gateway runs with this config's admin_listen, each key also shows when it was last used \
            (asked with GET /keys; pass --token-file when the config sets admin_token_sha256), so you can see \
            that a site has moved to its new key before removing the old one.

            Example: justgate sites --config /etc/justgate/justgate.yaml
            """
    )

    @OptionGroup var options: ConfigOptions

    @Option(help: "File holding the admin token, to ask the running gateway for each key's last use when the config sets admin_token_sha256.")
    var tokenFile: String?

    func run() throws {
        guard let (config, _) = ConfigFile.load(options.config) else { throw ExitCode.failure }
        let token = try tokenFile.map { try AdminToken.read($0, command: "sites") }
        let lastUse = SiteKeyLastUse.lookup(config: config, token: token)
        let report = SitesReport(config: config, environment: ProcessSecretEnvironment(), now: Int64(time(nil)), lastUse: lastUse,
                                 vault: ConfigFile.readVault(config))
        for line in report.lines { print(TerminalSafeText.escaped(line)) }
        if !report.isHealthy { throw ExitCode.failure }
    }
}

/// The text of `justgate sites`, built from a loaded config, an environment for the tokens and the time.
struct SitesReport {
    private(set) var lines: [String] = []
    /// False when a site has no current key or its token cannot be read.
    private(set) var isHealthy = true

    /// - Parameter lastUse: what the running gateway says of each key's last use (`SiteKeyLastUse`).
    /// - Parameter vault: what was just read from Vault for `{ vault: PATH }` tokens (`ConfigFile.readVault`).
    init(config: GatewayConfig, environment: some SecretEnvironment, now: Int64,
         lastUse: SiteKeyLastUse.Lookup = .notAsked, vault: VaultReads = [:]) {
        for (index, site) in config.sites.enumerated() {
            if index > 0 { lines.append("") }
            lines.append("site \(site.id)")
            var site = site
            if let reference = site.keysFromVault {
                switch SecretResolver.keys(from: reference, vault: vault) {
                case .success(let keys):
                    site.keys = keys
                    let version = (try? vault[reference]?.get())?.version.map { ", KV version \($0)" } ?? ""
                    lines.append("  keys from vault \(reference.path) field \(reference.field)\(version)")
                case .failure(let error):
                    isHealthy = false
                    lines.append("  keys:    CANNOT READ \(error.message)")
                    addToken(site, environment: environment, vault: vault, now: now)
                    addLimits(site)
                    continue
                }
            }
            addKeys(site, now: now, lastUse: lastUse)
            addToken(site, environment: environment, vault: vault, now: now)
            addLimits(site)
        }
        if case .unavailable(let reason) = lastUse {
            lines.append("")
            lines.append("last use of keys: not shown: \(reason)")
        }
    }

    private mutating func addKeys(_ site: SiteConfig, now: Int64, lastUse: SiteKeyLastUse.Lookup) {
        func used(_ key: SiteKey) -> String {
            guard case .known(let uses) = lastUse else { return "" }
            return SiteKeyLastUse.phrase(uses[site.id + "/" + key.fingerprint], now: now)
        }
        var current = 0
        for (index, key) in site.allKeys.enumerated() {
            let label = index == 0 ? "  keys:   " : "          "
            let origin = index == 0 && site.keySHA256 != nil ? " (key_sha256)" : ""
            guard let expiry = key.expiry else {
                current += 1
                lines.append("\(label)\(key.fingerprint)  current, no expiry\(origin)\(used(key))")
                continue
            }
            if key.isExpired(at: now) {
                lines.append("\(label)\(key.fingerprint)  EXPIRED since \(expiry)\(origin); refused, remove it from the config\(used(key))")
            } else {
                current += 1
                let days = (expiry.unixSeconds - now) / 86_400
                let left = days == 0 ? "less than a day left" : "\(days) day\(days == 1 ? "" : "s") left"
                lines.append("\(label)\(key.fingerprint)  current, expires \(expiry) (\(left))\(origin)\(used(key))")
            }
        }
        if current == 0 {
            isHealthy = false
            lines.append("          no current key: every request of this site is refused; add one with `justgate keygen`")
        }
    }

    private mutating func addToken(_ site: SiteConfig, environment: some SecretEnvironment, vault: VaultReads, now: Int64) {
        let source: String
        switch site.upstreamToken {
        case .env(let name): source = "env \(name)"
        case .file(let path): source = "file \(path)"
        case .value: source = "inline value in the config"
        case .vault(let reference):
            let version = (try? vault[reference]?.get())?.version.map { ", KV version \($0)" } ?? ""
            source = "vault \(reference.path) field \(reference.field)\(version), read at \(AuditTime.format(unixMillis: now * 1000))"
        }
        switch SecretResolver.resolve([site], environment: environment, vault: vault) {
        case .success(let resolved):
            // The first 12 hex digits of the token's SHA-256, as for keys: after a rotation the operator
            // compares it with `printf %s "$NEW_TOKEN" | sha256sum | cut -c1-12`, never seeing the value here.
            let fingerprint = resolved.first.map { UpstreamTokenFingerprint.of($0.upstreamToken.reveal()) } ?? "?"
            lines.append("  token:  \(source), resolves, fingerprint \(fingerprint)")
        case .failure(let errors):
            isHealthy = false
            let reasons = errors.problems.map(\.message).joined(separator: "; ")
            lines.append("  token:  \(source), DOES NOT RESOLVE: \(reasons)")
        }
    }

    private mutating func addLimits(_ site: SiteConfig) {
        guard !site.limits.isEmpty else {
            lines.append("  limits: none")
            return
        }
        for (index, policy) in site.limits.enumerated() {
            lines.append((index == 0 ? "  limits: " : "          ") + policy.sentence)
        }
    }
}
