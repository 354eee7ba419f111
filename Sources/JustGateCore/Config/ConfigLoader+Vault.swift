import Yams

/// `secrets: { vault: … }` and the rule that ties it to the sites: a `{ vault: PATH }` token needs the section.
extension ConfigLoader {
    static let secretsKeys = ["vault"]
    static let vaultKeys = ["address", "ca_file", "namespace", "approle", "token", "refresh_s"]

    /// The `secrets:` section; `.some(nil)` when absent, nil when present but wrong (reported).
    static func vaultConfig(_ node: Node?, reader: inout ConfigNodeReader) -> VaultConfig?? {
        guard let node else { return .some(nil) }
        guard let secrets = reader.mapping(node, at: "secrets", knownKeys: secretsKeys) else { return nil }
        guard let vaultNode = reader.required(secrets, "vault", hint: " (address and approle or token)") else { return nil }
        guard let section = reader.mapping(vaultNode, at: "secrets.vault", knownKeys: vaultKeys) else { return nil }
        let address = reader.required(section, "address", hint: " (e.g. https://vault.internal:8200)").flatMap {
            vaultAddress($0, at: section.path(of: "address"), reader: &reader)
        }
        let caFile = reader.optionalString(in: section, "ca_file")
        if case .some(.some(let path)) = caFile, path.isEmpty {
            reader.error("must be the path of a PEM file, or leave ca_file out", at: section.path(of: "ca_file"),
                         node: section.value("ca_file"))
        }
        let namespace = reader.optionalString(in: section, "namespace")
        let refresh = reader.int(in: section, "refresh_s", default: VaultConfig.defaultRefreshSeconds, atLeast: 1)
        let auth = vaultAuth(section, reader: &reader)
        guard let address, case .some(let caFile) = caFile, case .some(let namespace) = namespace, let refresh,
              let auth
        else { return nil }
        if address.hasPrefix("http://") && !isLoopbackURL(address) {
            reader.warning("""
                plain http sends the gateway's Vault token and every upstream token unencrypted; use https \
                (ca_file for a private CA)
                """, at: section.path(of: "address"), node: section.value("address"))
        }
        return .some(VaultConfig(address: address, caFile: caFile, namespace: namespace?.isEmpty == true ? nil : namespace,
                                 auth: auth, refreshSeconds: refresh))
    }

    /// `http(s)://host[:port]`, with no path, query or credentials; a trailing slash is dropped.
    private static func vaultAddress(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> String? {
        guard var text = reader.string(node, at: path) else { return nil }
        while text.hasSuffix("/") { text.removeLast() }
        let scheme = text.hasPrefix("https://") ? "https://" : text.hasPrefix("http://") ? "http://" : nil
        guard let scheme else {
            reader.error("must start with https:// (or http:// on loopback), e.g. https://vault.internal:8200",
                         at: path, node: node)
            return nil
        }
        let authority = text.dropFirst(scheme.count)
        guard !authority.isEmpty, !authority.contains(where: { "/?#@ ".contains($0) }) else {
            reader.error("must be scheme, host and port only (no path, credentials or query), e.g. https://vault.internal:8200",
                         at: path, node: node)
            return nil
        }
        return text
    }

    private static func isLoopbackURL(_ address: String) -> Bool {
        let authority = address.dropFirst("http://".count)
        return authority.hasPrefix("127.") || authority.hasPrefix("localhost") || authority.hasPrefix("[::1]")
    }

    /// Exactly one of `approle: { role_id, secret_id }` or `token: { file | env }`.
    private static func vaultAuth(_ section: ConfigMapping, reader: inout ConfigNodeReader) -> VaultAuth? {
        let approle = section.value("approle")
        let token = section.value("token")
        switch (approle, token) {
        case (.some(let node), nil):
            let path = section.path(of: "approle")
            guard let mapping = reader.mapping(node, at: path, knownKeys: ["role_id", "secret_id"]) else { return nil }
            let roleID = reader.required(mapping, "role_id", hint: " ({ file: PATH } or { env: NAME })").flatMap {
                fileOrEnvSecret($0, at: mapping.path(of: "role_id"), reader: &reader)
            }
            let secretID = reader.required(mapping, "secret_id", hint: " ({ file: PATH } or { env: NAME })").flatMap {
                fileOrEnvSecret($0, at: mapping.path(of: "secret_id"), reader: &reader)
            }
            guard let roleID, let secretID else { return nil }
            return .appRole(roleID: roleID, secretID: secretID)
        case (nil, .some(let node)):
            return fileOrEnvSecret(node, at: section.path(of: "token"), reader: &reader).map(VaultAuth.token)
        case (.some, .some):
            reader.error("give approle or token, not both", at: section.path, line: section.line)
            return nil
        case (nil, nil):
            reader.error("""
                say how the gateway logs in to Vault: approle: { role_id: { file: PATH }, secret_id: { file: PATH } } \
                or token: { file: PATH }
                """, at: section.path, line: section.line)
            return nil
        }
    }


    /// `{ vault: PATH, field: NAME }` in a site's `upstream_token`.
    static func vaultTokenSource(_ section: ConfigMapping, at path: String, reader: inout ConfigNodeReader) -> SecretSource? {
        let others = section.entries.map(\.key).filter { $0 != "vault" && $0 != "field" }
        guard others.isEmpty else {
            reader.error("a Vault token takes vault and field only; remove \(others.map { "'\($0)'" }.joined(separator: ", "))",
                         at: path, line: section.line)
            return nil
        }
        let pathNode = reader.required(section, "vault")
        let fieldNode = reader.required(section, "field", hint: " (the key inside the secret, e.g. field: token)")
        var secretPath = pathNode.flatMap { reader.string($0, at: section.path(of: "vault")) }
        if let path = secretPath, let problem = VaultSecretReference.problem(with: path) {
            reader.error("'\(ProblemText.excerpt(path))' \(problem)", at: section.path(of: "vault"), node: pathNode)
            secretPath = nil
        }
        guard let fieldNode, let secretPath, let field = reader.string(fieldNode, at: section.path(of: "field")) else {
            return nil
        }
        guard !field.isEmpty else {
            reader.error("must name the key inside the secret, e.g. token", at: section.path(of: "field"), node: fieldNode)
            return nil
        }
        return .vault(VaultSecretReference(path: secretPath, field: field))
    }

    /// A site that reads its token from Vault needs `secrets.vault`; without it nothing could ever be read.
    static func checkVaultSources(_ sites: [SiteConfig], vault: VaultConfig?, sitesNode: Node?, reader: inout ConfigNodeReader) {
        guard vault == nil, !sites.vaultReferences.isEmpty else { return }
        let items = sitesNode?.sequence.map { Array($0) } ?? []
        for (index, site) in sites.enumerated() {
            var uses: [(key: String, what: String)] = []
            if case .vault = site.upstreamToken { uses.append(("upstream_token", "its token")) }
            if site.keysFromVault != nil { uses.append(("keys", "its keys")) }
            for use in uses {
                let node = index < items.count ? items[index][use.key] : nil
                reader.error("""
                    site '\(site.id)' reads \(use.what) from Vault, but there is no secrets.vault section; add secrets: \
                    { vault: { address, approle or token } } (see the README's "Tokens from Vault/OpenBao")
                    """, at: ConfigNodeReader.join(ConfigNodeReader.join("sites", index), use.key), node: node)
            }
        }
    }
}
