import JustGateCore
import JustGateHTTP

/// Tells requests a web browser made from requests tools make, so `POST /reload` cannot be triggered by a
/// page the operator happens to have open (cross-site request forgery against the admin listener).
///
/// A browser can send a POST to any address without asking first (no CORS preflight) only when its body
/// type is one an HTML form can send; and every POST a current browser sends carries `Origin`, and
/// `Sec-Fetch-Site` unless the user typed the address. The admin listener has no browser interface, so
/// it refuses *any* `Origin` rather than comparing it with its own: a comparison would pass under DNS
/// rebinding, where the page's origin and the `Host` it sends both name the attacker's domain.
/// `curl -X POST`, the orchestrators' probes and the justgate tooling send none of these.
enum BrowserRequestGuard {
    /// The body types a form sends without a preflight (the Fetch standard's CORS-safelisted types).
    static let formBodyTypes: Set<String> = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]

    /// Why `head` looks like a browser's request, for the 403's text; nil for a tool's request.
    static func browserSign(_ head: HTTPRequestHead) -> String? {
        if head.value(for: "Origin") != nil {
            return "it carries an Origin header"
        }
        if let site = head.value(for: "Sec-Fetch-Site"), site.lowercased() != "none" {
            return "it carries Sec-Fetch-Site: \(ProblemText.excerpt(site))"
        }
        for value in head.values(for: "Content-Type") {
            let essence = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let type = essence.trimmingCharacters(in: " \t").lowercased()
            if formBodyTypes.contains(type) { return "its body type \(type) is one a web form can send" }
        }
        return nil
    }
}

extension StringProtocol {
    /// Drops leading and trailing characters in `set` (spaces and tabs), without Foundation.
    fileprivate func trimmingCharacters(in set: String) -> String {
        let skip = Set(set)
        guard let first = firstIndex(where: { !skip.contains($0) }),
              let last = lastIndex(where: { !skip.contains($0) }) else { return "" }
        return String(self[first...last])
    }
}
