/// Sites whose keys are kept in Vault (`keys: { vault: PATH }`): the list read is put into each site's `keys`,
/// so everything after (the key table, `justgate sites`, the key metrics) sees keys as if written in the config.
extension SecretResolver {
    /// `sites` with every Vault key list in place; a list that cannot be read or used, and a key that another
    /// site also has, is a problem (named by site and path, never by more than a key's fingerprint).
    static func withVaultKeys(_ sites: [SiteConfig], vault: VaultReads, problems: inout [ConfigProblem]) -> [SiteConfig] {
        guard sites.contains(where: { $0.keysFromVault != nil }) else { return sites }
        var filled = sites
        for (index, site) in sites.enumerated() {
            guard let reference = site.keysFromVault else { continue }
            switch keys(from: reference, vault: vault) {
            case .success(let keys): filled[index].keys = keys
            case .failure(let error):
                problems.append(ConfigProblem(path: "sites[\(index)].keys", line: nil, message: "site '\(site.id)': \(error.message)"))
            }
        }
        problems += keysOfTwoSites(filled)
        return filled
    }

    /// The key list of one Vault secret, from this round's reads.
    public static func keys(from reference: VaultSecretReference, vault: VaultReads) -> Result<[SiteKey], VaultReadError> {
        switch vault[reference] {
        case .success(let read): return VaultSiteKeys.parse(read.value.reveal(), from: reference)
        case .failure(let error): return .failure(error)
        case nil:
            return .failure(VaultReadError("""
                \(reference) was not read; the gateway reads Vault secrets at start-up and every secrets.vault.refresh_s
                """))
        }
    }

    /// A key that two sites list could not say which site is calling (the config loader refuses it among written
    /// keys; a list from Vault is only known now).
    public static func keysOfTwoSites(_ sites: [SiteConfig]) -> [ConfigProblem] {
        var owner: [[UInt8]: String] = [:]
        var problems: [ConfigProblem] = []
        for (index, site) in sites.enumerated() {
            for key in site.allKeys {
                if let first = owner[key.sha256], first != site.id {
                    problems.append(ConfigProblem(path: "sites[\(index)].keys", line: nil, message: """
                        site '\(site.id)': key \(key.fingerprint) is also a key of site '\(first)'; every key belongs \
                        to exactly one site (for a new key run `justgate keygen`)
                        """))
                } else {
                    owner[key.sha256] = site.id
                }
            }
        }
        return problems
    }
}
