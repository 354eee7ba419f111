import Yams

/// A site's keys: `key_sha256` (one key, no expiry) and/or `keys: [{ sha256, expires }]` (several, for
/// rotation). Every key hash must be unique in the whole config: a key that two sites shared could not say
/// which site is calling, and a key listed twice for one site could disagree with itself about expiry.
extension ConfigLoader {
    static let siteKeyEntryKeys = ["sha256", "expires"]

    /// A key with where it was written, so a duplicate can name the first place.
    struct LocatedSiteKey {
        var key: SiteKey
        var path: String
        var node: Node?
    }

    /// One site's keys as written: the one-key form and the list.
    struct SiteKeyList {
        var oneKey: LocatedSiteKey?
        var listed: [LocatedSiteKey]
        /// `keys: { vault: PATH }`: the list is read from Vault, not written here.
        var vault: VaultSecretReference? = nil
        /// Every key, `key_sha256` first, then `keys` in file order.
        var all: [LocatedSiteKey] { (oneKey.map { [$0] } ?? []) + listed }
    }

    /// Every key of one site, or nil after reporting a problem.
    static func siteKeyList(_ section: ConfigMapping, reader: inout ConfigNodeReader) -> SiteKeyList? {
        let oneKeyNode = section.value("key_sha256")
        let listNode = section.value("keys")
        guard oneKeyNode != nil || listNode != nil else {
            let written = section.entries.first { $0.key == "key_sha256" || $0.key == "keys" }
            reader.error("""
                give the site a key: key_sha256 (the output of `justgate keygen`) or \
                keys: [{ sha256: ..., expires: YYYY-MM-DD }]
                """, at: section.path, line: written?.keyLine ?? section.line)
            return nil
        }
        var keys = SiteKeyList(oneKey: nil, listed: [])
        var isValid = true
        if let oneKeyNode {
            let path = section.path(of: "key_sha256")
            if let hash = keySHA256(oneKeyNode, at: path, reader: &reader) {
                keys.oneKey = LocatedSiteKey(key: SiteKey(sha256: hash), path: path, node: oneKeyNode)
            } else {
                isValid = false
            }
        }
        if let listNode, case .mapping = listNode {
            if let reference = vaultKeysReference(listNode, at: section.path(of: "keys"), reader: &reader) {
                keys.vault = reference
            } else {
                isValid = false
            }
        } else if let listNode {
            let path = section.path(of: "keys")
            if let listed = keyEntries(listNode, at: path, reader: &reader) {
                keys.listed = listed
            } else {
                isValid = false
            }
        }
        return isValid ? keys : nil
    }

    /// Reports a key whose hash was already given, here or in another site; `firstPathByHash` carries the
    /// first place each hash appeared across all sites. False when a duplicate was found.
    static func recordUniqueKeys(_ keys: [LocatedSiteKey], firstPathByHash: inout [[UInt8]: String],
                                 reader: inout ConfigNodeReader) -> Bool {
        var isValid = true
        for located in keys {
            if let first = firstPathByHash[located.key.sha256] {
                reader.error("""
                    the same key hash as \(first); every key belongs to exactly one site and is listed once \
                    (to give key_sha256 an expiry, move it into keys:; for a new key run `justgate keygen`)
                    """, at: located.path, node: located.node)
                isValid = false
            } else {
                firstPathByHash[located.key.sha256] = located.path
            }
        }
        return isValid
    }

    /// `keys: { vault: PATH, field: NAME }` (field defaults to `keys`); the secret's shape is `VaultSiteKeys`'.
    private static func vaultKeysReference(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> VaultSecretReference? {
        guard let section = reader.mapping(node, at: path, knownKeys: ["vault", "field"]) else { return nil }
        let pathNode = reader.required(section, "vault", hint: " (e.g. keys: { vault: secret/data/justgate/keys/SITE })")
        guard let pathNode, let secretPath = reader.string(pathNode, at: section.path(of: "vault")) else { return nil }
        if let problem = VaultSecretReference.problem(with: secretPath) {
            reader.error("'\(ProblemText.excerpt(secretPath))' \(problem)", at: section.path(of: "vault"), node: pathNode)
            return nil
        }
        var field = VaultSiteKeys.defaultField
        if let fieldNode = section.value("field") {
            guard let text = reader.string(fieldNode, at: section.path(of: "field")), !text.isEmpty else {
                reader.error("must name the key inside the secret, or leave field out (keys)", at: section.path(of: "field"),
                             node: fieldNode)
                return nil
            }
            field = text
        }
        return VaultSecretReference(path: secretPath, field: field)
    }

    private static func keyEntries(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> [LocatedSiteKey]? {
        guard let items = reader.sequence(node, at: path) else { return nil }
        guard !items.isEmpty else {
            reader.error("list at least one key ({ sha256: ..., expires: YYYY-MM-DD }), or remove keys:",
                         at: path, node: node)
            return nil
        }
        var keys: [LocatedSiteKey] = []
        var isValid = true
        for (index, item) in items.enumerated() {
            let itemPath = ConfigNodeReader.join(path, index)
            guard let entry = reader.mapping(item, at: itemPath, knownKeys: siteKeyEntryKeys) else {
                isValid = false
                continue
            }
            let hash = reader.required(entry, "sha256", hint: " (the key_sha256 value `justgate keygen` prints)")
                .flatMap { keySHA256($0, at: entry.path(of: "sha256"), reader: &reader) }
            let expiresNode = entry.value("expires")
            let expiry = expiresNode.flatMap { keyExpiry($0, at: entry.path(of: "expires"), reader: &reader) }
            guard let hash, expiresNode == nil || expiry != nil else {
                isValid = false
                continue
            }
            keys.append(LocatedSiteKey(key: SiteKey(sha256: hash, expiry: expiry), path: entry.path(of: "sha256"),
                                       node: entry.value("sha256")))
        }
        return isValid ? keys : nil
    }

    private static func keyExpiry(_ node: Node, at path: String, reader: inout ConfigNodeReader) -> SiteKeyExpiry? {
        guard let text = reader.string(node, at: path) else { return nil }
        guard let expiry = SiteKeyExpiry.parse(text) else {
            reader.error("""
                '\(ProblemText.excerpt(text))' is not a date; write YYYY-MM-DD (the key is refused from 00:00 UTC \
                that day) or YYYY-MM-DDTHH:MM:SSZ
                """, at: path, node: node)
            return nil
        }
        return expiry
    }
}
