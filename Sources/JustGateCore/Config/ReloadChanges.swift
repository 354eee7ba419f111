/// What a reload changes in the sites a gateway serves: sites added and removed, keys added and removed, upstream
/// tokens replaced and rate-limit policies changed, each named by site id and fingerprint, never by a secret.
///
/// Why a value of its own: the reload's audit record (`event: reload`) says in its `note` what changed, so an
/// auditor reading the chain sees when a site got a new key or token and who asked for it. Computing the
/// difference apart from the reload itself lets it be tested without sockets, and keeps secrets out by
/// construction: only fingerprints (a few hex digits of SHA-256) ever reach the sentence.
public struct ReloadChanges: Sendable, Equatable {
    /// A key or token of one site, by fingerprint.
    public struct Fingerprinted: Sendable, Equatable {
        public var site: String
        public var fingerprint: String
    }

    /// One site's upstream token replaced: the fingerprints before and after.
    public struct TokenChange: Sendable, Equatable {
        public var site: String
        public var old: String
        public var new: String
    }

    /// One rate-limit policy of one site added, removed or changed.
    public struct PolicyChange: Sendable, Equatable {
        public var site: String
        public var policy: String
    }

    public var sitesAdded: [String] = []
    public var sitesRemoved: [String] = []
    public var keysAdded: [Fingerprinted] = []
    public var keysRemoved: [Fingerprinted] = []
    public var tokensChanged: [TokenChange] = []
    public var limitsChanged: [PolicyChange] = []

    /// The longest `sentence` written, in characters: the audit `note` stays a line an operator reads at a glance
    /// even when a reload replaces hundreds of sites.
    public static let maxSentenceLength = 600

    /// The differences between the sites served before (`old`) and after (`new`) a reload, in `new`'s order.
    /// Keys and tokens of a site added or removed are not listed again: the site itself is.
    public init(old: [ResolvedSite], new: [ResolvedSite]) {
        let before = Dictionary(old.map { ($0.config.id, $0) }, uniquingKeysWith: { first, _ in first })
        let afterIDs = Set(new.map(\.config.id))
        sitesRemoved = old.map(\.config.id).filter { !afterIDs.contains($0) }
        for site in new {
            let id = site.config.id
            guard let previous = before[id] else {
                sitesAdded.append(id)
                continue
            }
            let oldKeys = ReloadChanges.keyFingerprints(previous.config)
            let newKeys = ReloadChanges.keyFingerprints(site.config)
            keysAdded += newKeys.filter { !oldKeys.contains($0) }.map { Fingerprinted(site: id, fingerprint: $0) }
            keysRemoved += oldKeys.filter { !newKeys.contains($0) }.map { Fingerprinted(site: id, fingerprint: $0) }
            let oldToken = UpstreamTokenFingerprint.of(previous.upstreamToken.reveal())
            let newToken = UpstreamTokenFingerprint.of(site.upstreamToken.reveal())
            if oldToken != newToken { tokensChanged.append(TokenChange(site: id, old: oldToken, new: newToken)) }
            let oldPolicies = Dictionary(previous.config.limits.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            let newNames = Set(site.config.limits.map(\.name))
            for policy in site.config.limits where oldPolicies[policy.name] != policy {
                limitsChanged.append(PolicyChange(site: id, policy: policy.name))
            }
            for policy in previous.config.limits where !newNames.contains(policy.name) {
                limitsChanged.append(PolicyChange(site: id, policy: policy.name))
            }
        }
    }

    /// Whether the reload changed none of what this value tracks.
    public var isEmpty: Bool {
        sitesAdded.isEmpty && sitesRemoved.isEmpty && keysAdded.isEmpty && keysRemoved.isEmpty
            && tokensChanged.isEmpty && limitsChanged.isEmpty
    }

    /// The changes as one sentence, e.g. "sites added: shop; key added: blog 3f2a9c1d0e4b; token changed: blog
    /// 1a2b3c4d5e6f -> 9f8e7d6c5b4a; limits changed: blog/sms-per-phone", at most `maxSentenceLength` characters
    /// ("…" and how many changes were left out when it is cut). "no site, key, token or limit changed" when empty.
    public var sentence: String {
        var parts: [String] = []
        func add(_ label: String, _ items: [String]) {
            if !items.isEmpty { parts.append("\(label): \(items.joined(separator: ", "))") }
        }
        add("sites added", sitesAdded)
        add("sites removed", sitesRemoved)
        add("keys added", keysAdded.map { "\($0.site) \($0.fingerprint)" })
        add("keys removed", keysRemoved.map { "\($0.site) \($0.fingerprint)" })
        add("tokens changed", tokensChanged.map { "\($0.site) \($0.old) -> \($0.new)" })
        add("limits changed", limitsChanged.map { "\($0.site)/\($0.policy)" })
        guard !parts.isEmpty else { return "no site, key, token or limit changed" }
        return ReloadChanges.bounded(parts.joined(separator: "; "), to: ReloadChanges.maxSentenceLength)
    }

    /// `text` cut at a separator so that it, with a "… (N more)" tail, fits `limit` characters.
    public static func bounded(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        let kept = String(text.prefix(limit - 24))
        let cut = kept.lastIndex(where: { $0 == "," || $0 == ";" }).map { String(kept[..<$0]) } ?? kept
        let left = text.dropFirst(cut.count).filter { $0 == "," || $0 == ";" }.count
        return "\(cut) … (\(left) more)"
    }

    /// A site's key fingerprints, the one-key form's included, in config order without repeats.
    private static func keyFingerprints(_ site: SiteConfig) -> [String] {
        var all = site.keys.map(\.fingerprint)
        if let hash = site.keySHA256 {
            let fingerprint = SiteKey(sha256: hash).fingerprint
            if !all.contains(fingerprint) { all.insert(fingerprint, at: 0) }
        }
        return all
    }
}

/// The fingerprint of an upstream token: the first hex digits of its SHA-256 (as many as a site key's), shown by
/// `justgate sites` and written in reload records so an operator can tell which token is in use, while the
/// token itself stays unrecoverable from it.
public enum UpstreamTokenFingerprint {
    /// The fingerprint of `token`.
    public static func of(_ token: String) -> String {
        String(SiteKeys.sha256Hex(token).prefix(SiteKey.fingerprintLength))
    }
}
