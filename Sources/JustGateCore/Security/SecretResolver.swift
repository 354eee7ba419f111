/// A site together with its upstream token, read and checked: what the request pipeline needs to forward.
public struct ResolvedSite: Sendable {
    /// The site as configured.
    public var config: SiteConfig
    /// The token to send upstream as `X-AUTH-TOKEN`.
    public var upstreamToken: Secret

    /// Pairs a site with its token.
    public init(config: SiteConfig, upstreamToken: Secret) {
        self.config = config
        self.upstreamToken = upstreamToken
    }
}

/// Reads every site's upstream token at start-up and refuses to start on any doubt.
///
/// All failures are collected so one run of `justgate check-config` shows them all. Messages name the site and
/// the source (variable or path) and say what to do; they never contain a token, not even a rejected one.
public enum SecretResolver {
    /// Resolves every site's token, or returns every problem found.
    /// - Parameter vault: the values read from Vault for `{ vault: PATH }` tokens (by `VaultSecretReader` at the
    ///   edge, since reading is I/O); a reference missing here is reported as not read.
    public static func resolve(
        _ sites: [SiteConfig],
        environment: some SecretEnvironment,
        vault: VaultReads = [:]
    ) -> Result<[ResolvedSite], ConfigErrors> {
        var problems: [ConfigProblem] = []
        var resolved: [ResolvedSite] = []
        let sites = withVaultKeys(sites, vault: vault, problems: &problems)
        for (index, site) in sites.enumerated() {
            let path = "sites[\(index)].upstream_token"
            switch token(for: site, environment: environment, vault: vault) {
            case .success(let token):
                resolved.append(ResolvedSite(config: site, upstreamToken: token))
            case .failure(let failure):
                problems.append(ConfigProblem(path: path, line: nil, message: "site '\(site.id)': \(failure.message)"))
            }
        }
        problems += keysThatAreTokens(sites: sites, resolved: resolved)
        guard problems.isEmpty else { return .failure(ConfigErrors(problems: problems)) }
        return .success(resolved)
    }

    private struct Failure: Error {
        var message: String
    }

    private static func token(
        for site: SiteConfig,
        environment: some SecretEnvironment,
        vault: VaultReads
    ) -> Result<Secret, Failure> {
        let raw: String
        let source = site.upstreamToken
        switch source {
        case .env(let name):
            guard let value = environment.environmentValue(name) else {
                return .failure(Failure(message: """
                    environment variable \(name) is not set; export it or point upstream_token at a file
                    """))
            }
            raw = value
        case .file(let written):
            let path: String
            switch TokenFilePath.expand(written, environment: environment) {
            case .success(let expanded): path = expanded
            case .failure(let failure): return .failure(Failure(message: failure.description))
            }
            let shown = path == written ? path : "\(written) (\(path))"
            do {
                raw = trimmingWhitespace(try environment.fileContents(path))
            } catch {
                return .failure(Failure(message: """
                    cannot read token file \(shown) (\(error)); check the path and that the gateway's user may read it
                    """))
            }
        case .value(let secret):
            raw = secret.reveal()
        case .vault(let reference):
            switch vault[reference] {
            case .success(let read): raw = read.value.reveal()
            case .failure(let error): return .failure(Failure(message: error.message))
            case nil:
                return .failure(Failure(message: """
                    \(reference) was not read; the gateway reads Vault tokens at start-up and every secrets.vault.refresh_s
                    """))
            }
        }
        if let complaint = complaint(about: raw) {
            return .failure(Failure(message: "the token from \(source) \(complaint)"))
        }
        return .success(Secret(raw))
    }

    /// Why a token cannot go into an HTTP header, or `nil` when it can. Never quotes the token.
    private static func complaint(about token: String) -> String? {
        if token.isEmpty {
            return "is empty; put the project's X-AUTH-TOKEN there"
        }
        for scalar in token.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                return "contains a control character (such as CR or LF); a token must be a single line of text"
            }
        }
        if !token.unicodeScalars.allSatisfy(\.isASCII) {
            return "contains non-ASCII characters; upstream tokens are plain ASCII, check the value"
        }
        return nil
    }

    /// A key hash equal to the hash of some site's token means a token was pasted where a key belongs; a site
    /// presenting that token would otherwise authenticate itself with the upstream credential.
    private static func keysThatAreTokens(sites: [SiteConfig], resolved: [ResolvedSite]) -> [ConfigProblem] {
        let tokenHashes = resolved.map { (id: $0.config.id, hash: SiteKeys.sha256($0.upstreamToken.reveal())) }
        var problems: [ConfigProblem] = []
        for (index, site) in sites.enumerated() {
            let listedPaths = site.keys.indices.map { "sites[\(index)].keys[\($0)].sha256" }
            let paths = (site.keySHA256 == nil ? [] : ["sites[\(index)].key_sha256"]) + listedPaths
            for (key, path) in zip(site.allKeys, paths) {
                guard let owner = tokenHashes.first(where: { $0.hash == key.sha256 }) else { continue }
                let whose = owner.id == site.id ? "its own" : "site '\(owner.id)''s"
                problems.append(ConfigProblem(
                    path: path,
                    line: nil,
                    message: """
                        site '\(site.id)': this key hash is the SHA-256 of \(whose) upstream token; a site key must \
                        not be an upstream token. Generate a key with `justgate keygen`
                        """))
            }
        }
        return problems
    }

    private static func trimmingWhitespace(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
