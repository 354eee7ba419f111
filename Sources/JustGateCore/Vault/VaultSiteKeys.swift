/// A site's keys kept in Vault (`keys: { vault: "secret/data/justgate/keys/SITE" }`): the secret's field `keys`
/// holds the same list the config's `keys:` takes, as JSON:
/// `[{"sha256": "<justgate keygen's key_sha256>", "expires": "2027-01-31"}, {"sha256": "…"}]`.
///
/// Why one JSON field rather than one field per key: a rotation (add the new key, give the old one an expiry) is
/// then one `bao kv put` that every gateway sees whole, never half of it. The field may be a JSON string (what
/// `bao kv put PATH keys=@keys.json` writes) or a JSON list (what the API takes). Pure, so every shape is tested
/// without a server; messages name the secret and the entry, never a hash in full.
public enum VaultSiteKeys {
    /// The field read when `keys: { vault: PATH }` names none.
    public static let defaultField = "keys"

    /// The keys in `text` (the field's value), or why they cannot be used. An empty list is refused: a secret
    /// emptied by mistake must not lock a site out (the last good list stays in force instead).
    public static func parse(_ text: String, from reference: VaultSecretReference) -> Result<[SiteKey], VaultReadError> {
        guard case .array(let items)? = try? JSONParser.parse(text) else {
            return .failure(VaultReadError("""
                \(reference) is not a JSON list of keys; write [{"sha256": "...", "expires": "YYYY-MM-DD"}]
                """))
        }
        guard !items.isEmpty else {
            return .failure(VaultReadError("\(reference) lists no key; a site needs at least one"))
        }
        var keys: [SiteKey] = []
        var seen = Set<[UInt8]>()
        for (index, item) in items.enumerated() {
            let entry = "\(reference) entry \(index)"
            guard case .object(let members) = item else {
                return .failure(VaultReadError("\(entry) is not an object; write {\"sha256\": \"...\"}"))
            }
            if let unknown = members.first(where: { $0.key != "sha256" && $0.key != "expires" }) {
                return .failure(VaultReadError("\(entry) has an unknown field '\(unknown.key)'; only sha256 and expires"))
            }
            guard case .string(let hex)? = members.first(where: { $0.key == "sha256" })?.value,
                  let hash = SiteKeyHex.decode(hex), hash.count == 32, hash != SiteKeys.sha256("")
            else {
                return .failure(VaultReadError("""
                    \(entry): sha256 must be 64 hex digits (the key_sha256 `justgate keygen` prints)
                    """))
            }
            var expiry: SiteKeyExpiry?
            if let value = members.first(where: { $0.key == "expires" })?.value {
                guard case .string(let text) = value, let parsed = SiteKeyExpiry.parse(text) else {
                    return .failure(VaultReadError("\(entry): expires must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ"))
                }
                expiry = parsed
            }
            guard seen.insert(hash).inserted else {
                return .failure(VaultReadError("\(entry) repeats a key listed before it; list each key once"))
            }
            keys.append(SiteKey(sha256: hash, expiry: expiry))
        }
        return .success(keys)
    }

    /// What changed between two key lists, by fingerprint, for the log and the audit record.
    public static func difference(old: [SiteKey], new: [SiteKey]) -> String {
        let oldByPrint = Dictionary(old.map { ($0.fingerprint, $0) }, uniquingKeysWith: { first, _ in first })
        let newByPrint = Dictionary(new.map { ($0.fingerprint, $0) }, uniquingKeysWith: { first, _ in first })
        let added = new.map(\.fingerprint).filter { oldByPrint[$0] == nil }
        let removed = old.map(\.fingerprint).filter { newByPrint[$0] == nil }
        let expiry = new.filter { key in oldByPrint[key.fingerprint].map { $0.expiry != key.expiry } ?? false }.map(\.fingerprint)
        var parts: [String] = []
        if !added.isEmpty { parts.append("added \(added.joined(separator: ", "))") }
        if !removed.isEmpty { parts.append("removed \(removed.joined(separator: ", "))") }
        if !expiry.isEmpty { parts.append("new expiry for \(expiry.joined(separator: ", "))") }
        return parts.isEmpty ? "no change" : parts.joined(separator: "; ")
    }
}
