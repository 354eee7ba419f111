import JustGateCore

/// When each site key was last used, as a running gateway knows it (its admin listener's `GET /keys`), for
/// `justgate sites`: the config alone cannot say whether a site still sends its old key, which is what an
/// operator needs to know before removing it.
enum SiteKeyLastUse {
    /// What `justgate sites` can add to its key lines.
    enum Lookup {
        /// By `site/fingerprint`: Unix seconds of the last use, nil for "not since the gateway started".
        case known([String: Int64?])
        /// Why there is nothing to show, in words an operator can act on.
        case unavailable(String)
        /// The config has no admin listener: there is no gateway to ask, and nothing is said.
        case notAsked
    }

    /// Asks the gateway at `config.adminListen`; `token` is the admin token when the config demands one.
    static func lookup(config: GatewayConfig, token: String?) -> Lookup {
        guard let admin = config.adminListen else {
            return .notAsked
        }
        if config.adminTokenSHA256 != nil && token == nil {
            return .unavailable("the config sets admin_token_sha256: pass --token-file with the admin token to see it")
        }
        switch AdminRequest(address: admin, path: "/keys", token: token, timeoutMs: 1000).send() {
        case .failure(let failure):
            return .unavailable(failure.description)
        case .success(let answer) where answer.status != 200:
            return .unavailable("the admin listener at \(admin) answered GET /keys with \(answer.status) (a gateway older than this command?)")
        case .success(let answer):
            guard let uses = parse(answer.body) else {
                return .unavailable("the admin listener at \(admin) answered GET /keys with something that is not its key list")
            }
            return .known(uses)
        }
    }

    /// `{"keys":[{"site":…,"key":…,"last_used":N|null,…},…]}` as a table by `site/fingerprint`.
    static func parse(_ body: String) -> [String: Int64?]? {
        guard case .object(let top)? = try? JSONParser.parse(body), let list = top.first(where: { $0.key == "keys" }),
              case .array(let items) = list.value else { return nil }
        var uses: [String: Int64?] = [:]
        for item in items {
            guard case .object(let members) = item else { return nil }
            func value(_ name: String) -> JSONValue? { members.first { $0.key == name }?.value }
            guard case .string(let site)? = value("site"), case .string(let key)? = value("key") else { return nil }
            switch value("last_used") {
            case .number(let seconds)?: uses[site + "/" + key] = .some(Int64(seconds))
            default: uses[site + "/" + key] = .some(nil)
            }
        }
        return uses
    }

    /// `; last used 2026-12-06 18:20:01 UTC (4 min ago)`, or that it was not used since the gateway started.
    static func phrase(_ lastUsed: Int64??, now: Int64) -> String {
        guard let known = lastUsed else { return "; last use unknown to the running gateway (not in its config?)" }
        guard let seconds = known else { return "; not used since the gateway started" }
        let ago = max(0, now - seconds)
        let age = ago < 120 ? "\(ago) s ago" : ago < 7200 ? "\(ago / 60) min ago" : ago < 172_800 ? "\(ago / 3600) h ago"
            : "\(ago / 86_400) days ago"
        return "; last used \(SiteKeyExpiry(unixSeconds: seconds, text: "").description) (\(age))"
    }
}
