import Yams

/// The `sites:` list: identity, key hash, token source and per-site normalisation settings.
extension ConfigLoader {
    static let siteKeys = ["id", "key_sha256", "keys", "upstream_token", "phone", "email", "ip", "gender", "limits", "defer"]
    static let tokenSourceKeys = ["env", "file", "value", "vault", "field"]

    static func siteConfigs(_ node: Node, knownOperations: Set<String>, reader: inout ConfigNodeReader) -> [SiteConfig]? {
        guard let items = reader.sequence(node, at: "sites") else { return nil }
        guard !items.isEmpty else {
            reader.error("list at least one site; without sites every request is refused", at: "sites", node: node)
            return nil
        }
        var sites: [SiteConfig] = []
        var isValid = true
        var firstIndexByID: [String: Int] = [:]
        var firstPathByHash: [[UInt8]: String] = [:]
        for (index, item) in items.enumerated() {
            let path = ConfigNodeReader.join("sites", index)
            guard let (site, section, keys) = siteConfig(item, at: path, knownOperations: knownOperations, reader: &reader) else {
                isValid = false
                continue
            }
            if let first = firstIndexByID[site.id] {
                reader.error("duplicate site id '\(site.id)'; sites[\(first)] already uses it",
                             at: ConfigNodeReader.join(path, "id"), node: section.value("id"))
                isValid = false
            } else {
                firstIndexByID[site.id] = index
            }
            if !recordUniqueKeys(keys.all, firstPathByHash: &firstPathByHash, reader: &reader) {
                isValid = false
            }
            sites.append(site)
        }
        return isValid ? sites : nil
    }

    private static func siteConfig(
        _ node: Node, at path: String, knownOperations: Set<String>, reader: inout ConfigNodeReader
    ) -> (SiteConfig, ConfigMapping, SiteKeyList)? {
        guard let section = reader.mapping(node, at: path, knownKeys: siteKeys) else { return nil }
        let id = reader.required(section, "id").flatMap { siteID($0, at: section.path(of: "id"), reader: &reader) }
        let keys = siteKeyList(section, reader: &reader)
        let token = reader.required(section, "upstream_token", hint: " ({ env: NAME }, { file: PATH } or { vault: PATH, field: NAME })").flatMap {
            tokenSource($0, at: section.path(of: "upstream_token"), reader: &reader)
        }
        let phone = phoneSettings(section.value("phone"), at: section.path(of: "phone"), reader: &reader)
        let email = emailSettings(section.value("email"), at: section.path(of: "email"), reader: &reader)
        let rejectNonPublic = flag(section.value("ip"), at: section.path(of: "ip"),
                                   key: "reject_non_public", default: false, reader: &reader)
        let genders = genderSettings(section.value("gender"), at: section.path(of: "gender"), reader: &reader)
        let limits = sitePolicies(section.value("limits"), at: section.path(of: "limits"),
                                  knownOperations: knownOperations, reader: &reader)
        let deferred = deferredOperations(section.value("defer"), at: section.path(of: "defer"),
                                          knownOperations: knownOperations, reader: &reader)
        guard let id, let keys, let token, let phone, let email, let rejectNonPublic, let genders,
              let limits, let deferred
        else { return nil }
        var site = SiteConfig(
            id: id, keySHA256: keys.oneKey?.key.sha256, keys: keys.listed.map(\.key), keysFromVault: keys.vault,
            upstreamToken: token,
            phoneDefaultCountryCode: phone.countryCode, phoneTrunkPrefix: phone.trunkPrefix,
            phoneNationalNumberLength: phone.nationalNumberLength,
            lowercaseEmailLocalPart: email.lowercaseLocalPart, foldEmailForLimits: email.foldForLimits,
            rejectNonPublicIP: rejectNonPublic,
            allowedGenders: genders.allowed, limits: limits)
        site.deferredOperations = deferred
        return (site, section, keys)
    }

    private static func siteID(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> String? {
        guard let id = reader.string(node, at: path) else { return nil }
        guard SiteIDRule.isValid(id) else {
            reader.error("""
                '\(id)' is not a valid site id; use 1 to 64 characters of a-z, 0-9, '.', '_' and '-', \
                starting with a letter or digit
                """, at: path, node: node)
            return nil
        }
        return id
    }

    static func keySHA256(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> [UInt8]? {
        guard let text = reader.string(node, at: path) else { return nil }
        guard text.utf8.count == 64, let bytes = SiteKeyHex.decode(text) else {
            var message = "expected 64 hex characters (the output of `justgate keygen`)"
            if text.utf8.count == 43 {
                message += "; this looks like a site key itself: store its SHA-256, never the key"
            }
            reader.error(message, at: path, node: node)
            return nil
        }
        if bytes == SiteKeys.sha256("") {
            reader.error("is the SHA-256 of an empty key; generate a key with `justgate keygen`", at: path, node: node)
            return nil
        }
        if isPlaceholderHash(text) {
            reader.error("""
                '\(ProblemText.excerpt(text))' is a placeholder, not the hash of a key; run `justgate keygen` and put \
                the key_sha256 it prints here (give the key to the site)
                """, at: path, node: node)
            return nil
        }
        return bytes
    }

    /// Whether 64 hex digits are a placeholder someone left in (`000…0`, `aaaa…`, `000…01`): at most two distinct
    /// digits. A real SHA-256 uses about all sixteen; one with two or fewer turns up with odds near 16^-62.
    static func isPlaceholderHash(_ text: String) -> Bool {
        Set(text.lowercased().utf8).count <= 2
    }

    private static func tokenSource(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> SecretSource? {
        guard let section = reader.mapping(node, at: path, knownKeys: tokenSourceKeys) else { return nil }
        if section.entries.contains(where: { $0.key == "vault" || $0.key == "field" }) {
            return vaultTokenSource(section, at: path, reader: &reader)
        }
        let given = section.entries.map(\.key)
        guard given.count == 1, let kind = given.first else {
            // Keys that were all unknown have been reported already; "found none" would only repeat it.
            if given.isEmpty, case .mapping(let raw) = node, raw.count > 0 { return nil }
            let found = given.isEmpty ? "none" : given.map { "'\($0)'" }.joined(separator: " and ")
            reader.error("give exactly one of env, file, value or vault (with field); found \(found)", at: path, node: node)
            return nil
        }
        guard let valueNode = reader.required(section, kind) else { return nil }
        let valuePath = section.path(of: kind)
        guard let text = reader.string(valueNode, at: valuePath) else { return nil }
        switch kind {
        case "env":
            guard isEnvironmentVariableName(text) else {
                reader.error("'\(text)' is not an environment variable name; use letters, digits and _",
                             at: valuePath, node: valueNode)
                return nil
            }
            return .env(text)
        case "file":
            guard !text.isEmpty else {
                reader.error("must be a path to a file holding the token", at: valuePath, node: valueNode)
                return nil
            }
            guard TokenFilePath.isWellFormed(text) else {
                reader.error("""
                    only a leading ${CREDENTIALS_DIRECTORY} (set by systemd's LoadCredential=) is expanded in token \
                    file paths; write any other part of the path out in full
                    """, at: valuePath, node: valueNode)
                return nil
            }
            return .file(text)
        default:
            reader.warning("""
                put tokens in env or a file: a token written in the config ends up in backups and version control
                """, at: valuePath, node: valueNode)
            return .value(Secret(text))
        }
    }

    private static func isEnvironmentVariableName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return bytes.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x5F
        }
    }
}
