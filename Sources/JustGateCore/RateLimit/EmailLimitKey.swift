/// The `scope: email` key of a validated e-mail address on a site with `email.fold_for_limits: true`.
///
/// Most mail providers deliver `anna+1@example.com`, `anna+2@…` to `anna@`, and Gmail also ignores dots
/// (`a.n.n.a@gmail.com`), so a per-address limit keyed on the address as written gives one mailbox
/// unlimited fresh quota. The fold is for the key only, opt-in per site: the forwarded address keeps
/// its tag and dots, because the upstream and the person may rely on them (filters, replies).
///
/// The fold: lowercase the whole address (a mailbox that differs from another only by case is not worth
/// a separate quota); drop everything from the first `+` of the local part, for any domain, unless the local
/// part starts with `+`; for `gmail.com` and `googlemail.com` (one service; the key says `gmail.com`) drop
/// the local part's dots, unless nothing would be left. Not folded: other providers' tag separators (`-` at
/// Yahoo, for example), Google Workspace domains (their dots matter to no-one but Google, which cannot be
/// told from the address), and aliases a provider hands out at will: one person with many mailboxes is
/// still many keys.
enum EmailLimitKey {
    /// Domains where dots in the local part are ignored, and the one spelling the key uses for them.
    static let dotlessDomains: Set<String> = ["gmail.com", "googlemail.com"]
    static let dotlessCanonicalDomain = "gmail.com"

    static func key(of address: String) -> String {
        let lowered = address.lowercased()
        guard let at = lowered.lastIndex(of: "@") else { return lowered }
        var local = lowered[..<at]
        var domain = String(lowered[lowered.index(after: at)...])
        if let plus = local.firstIndex(of: "+"), plus != local.startIndex {
            local = local[..<plus]
        }
        if dotlessDomains.contains(domain) {
            domain = dotlessCanonicalDomain
            let dotless = local.filter { $0 != "." }
            if !dotless.isEmpty { local = dotless[...] }
        }
        return local + "@" + domain
    }
}
