/// Checks `upstream.url`: the base every forwarded request is appended to, and where tokens are sent.
///
/// The rules are narrower than RFC 3986 on purpose: no credentials (tokens belong in `upstream_token`), no query
/// or fragment (operations bring their own), only http and https, and a host that is a name or an IP literal.
/// Trailing slashes are removed so that `base + "/api/..."` never yields a double slash.
enum ConfigUpstreamURL {
    /// What was wrong, ready to be shown to the operator.
    struct Problem: Error {
        var message: String
    }

    /// A checked target, with a warning when the URL is valid but unwise.
    struct Checked {
        var target: UpstreamTarget
        var warning: String?
    }

    static func parse(_ text: String) -> Result<Checked, Problem> {
        if text == "sandbox" { return .success(Checked(target: .sandbox, warning: nil)) }
        guard let separator = text.firstRange(of: "://") else {
            return failure("is not an absolute URL; write https://host[:port][/path], or sandbox")
        }
        let scheme = text[..<separator.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            return failure("scheme '\(scheme)' is not supported; use https:// (or http:// for a local upstream)")
        }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            return failure("must not contain spaces, control or non-ASCII characters; percent-encode them")
        }
        let rest = text[separator.upperBound...]
        if rest.contains("?") { return failure("must not have a query (?...); operations add their own") }
        if rest.contains("#") { return failure("must not have a fragment (#...)") }
        let authority = rest.prefix { $0 != "/" }
        let path = rest[authority.endIndex...]
        if authority.contains("@") {
            return failure("must not contain credentials; put the token in each site's upstream_token")
        }
        let host: Substring
        switch hostAndPort(authority) {
        case .success(let parsedHost): host = parsedHost
        case .failure(let problem): return .failure(problem)
        }
        var trimmedPath = Substring(path)
        while trimmedPath.hasSuffix("/") { trimmedPath = trimmedPath.dropLast() }
        let url = "\(scheme)://\(authority)\(trimmedPath)"
        let isLocal = ListenAddress(host: String(host), port: 0).isLoopback
        let warning = scheme == "http" && !isLocal
            ? "http:// sends upstream tokens unencrypted; use https:// unless the upstream is on this machine"
            : nil
        return .success(Checked(target: .url(url), warning: warning))
    }

    /// Host (without brackets) after checking host and optional port.
    private static func hostAndPort(_ authority: Substring) -> Result<Substring, Problem> {
        guard !authority.isEmpty else { return failure("has no host; write https://host[:port][/path]") }
        let host: Substring
        let port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return failure("has an unclosed '[' in the host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard ConfigIPLiteral.ipv6Groups(host) != nil else { return failure("'[\(host)]' is not an IPv6 address") }
            guard after.isEmpty || after.hasPrefix(":") else { return failure("has text after the IPv6 address") }
            port = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        } else {
            host = authority
            port = nil
        }
        let isHostName = !host.isEmpty && host.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E
        }
        guard authority.hasPrefix("[") || isHostName else {
            return failure("host '\(host)' is not a valid host name or IP address")
        }
        if let port {
            guard (1...5).contains(port.utf8.count), port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let number = Int(port), (1...65_535).contains(number)
            else { return failure("port '\(port)' must be a number from 1 to 65535") }
        }
        return .success(host)
    }

    private static func failure<Success>(_ message: String) -> Result<Success, Problem> {
        .failure(Problem(message: message))
    }
}
