import JustGateHTTP

/// The `regUrl` rule: the absolute http(s) page a user registered on.
///
/// Upstream attributes sign-ups by this URL, so it must be a real web address: a relative path, a
/// `javascript:` URL or a value with spaces would be stored and shown in reports as-is. Scheme and host
/// are case-insensitive and lowercased so one page is one value; path, query and fragment are kept
/// exactly. User info (`user:pass@`) is refused: it has no place in a page address and is the usual
/// trick for disguising a host (`http://good.example@evil.example`).
package enum URLRule {
    package static let maxLength = 2048
    static let example = "expected an absolute http or https URL like https://example.com/signup"

    static func normalise(_ raw: String, field: String) -> Result<String, FieldProblems> {
        let value = UnicodeText.trimmed(raw)
        if value.isEmpty {
            return .failure(FieldProblems(field: field, code: ProblemCode.empty, message: "\(example); got an empty value"))
        }
        var problems: [FieldProblem] = []
        func add(_ code: String, _ message: String) {
            problems.append(FieldProblem(field: field, code: code, message: message))
        }
        let length = UnicodeText.scalarCount(value)
        if length > maxLength {
            add(ProblemCode.tooLong, "expected a URL of at most \(maxLength) characters; got \(length)")
        }
        if value.unicodeScalars.contains(where: { UnicodeText.isControl($0) || UnicodeText.isWhitespace($0) }) {
            add(ProblemCode.invalidURL, "\(example); spaces and control characters must be percent-encoded")
        }
        switch split(value) {
        case .failure(let reason):
            add(ProblemCode.invalidURL, "\(example); \(reason.text) in \(UnicodeText.echo(value))")
        case .success(let parts):
            if problems.isEmpty {
                return .success(UnicodeText.asciiLowercased(parts.schemeAndHost) + parts.rest)
            }
        }
        return .failure(FieldProblems(problems))
    }

    struct Parts {
        /// `scheme://host[:port]`, the case-insensitive part.
        var schemeAndHost: Substring
        /// Path, query and fragment, kept as written.
        var rest: Substring
    }

    struct Reason: Error {
        var text: String
    }

    static func split(_ value: Substring) -> Result<Parts, Reason> {
        let utf8 = value.utf8
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")) else {
            return .failure(Reason(text: "there is no scheme (a relative URL)"))
        }
        let scheme = UnicodeText.asciiLowercased(value[..<colon])
        guard scheme == "http" || scheme == "https" else {
            return .failure(Reason(text: "the scheme must be http or https"))
        }
        // Byte-wise, not Character-wise: a combining mark after ':' would otherwise merge with it into
        // one Character and be dropped with it (found by FuzzFieldRules).
        let afterColon = value[utf8.index(after: colon)...]
        guard afterColon.utf8.starts(with: "//".utf8) else {
            return .failure(Reason(text: "expected // after the scheme"))
        }
        let authorityStart = afterColon.utf8.index(afterColon.startIndex, offsetBy: 2)
        let tail = value[authorityStart...]
        let authorityEnd = tail.utf8.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? value.endIndex
        let authority = value[authorityStart..<authorityEnd]
        if authority.utf8.contains(UInt8(ascii: "@")) {
            return .failure(Reason(text: "user names and passwords (…@) are not allowed"))
        }
        if let problem = checkAuthority(authority) { return .failure(problem) }
        return .success(Parts(schemeAndHost: value[..<authorityEnd], rest: value[authorityEnd...]))
    }

    /// Checks `host[:port]`: a bracketed IPv6 address, or dot-separated labels of letters, digits,
    /// `-` and `_` (IPv4 fits that too); internationalised hosts must be punycode.
    static func checkAuthority(_ authority: Substring) -> Reason? {
        var host = authority
        var port: Substring = ""
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return Reason(text: "the IPv6 host has no closing ]") }
            let inside = authority[authority.index(after: authority.startIndex)..<close]
            guard inside.contains(":"), IPAddress(inside) != nil else { return Reason(text: "the bracketed host is not an IPv6 address") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return Reason(text: "unexpected text after the IPv6 host") }
                port = after.dropFirst()
            }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                port = authority[authority.index(after: colon)...]
            }
            if host.isEmpty { return Reason(text: "there is no host") }
            for label in host.split(separator: ".", omittingEmptySubsequences: false) {
                guard !label.isEmpty, label.utf8.count <= 63,
                    label.utf8.allSatisfy({ EmailSyntax.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
                else { return Reason(text: "the host must be letters, digits, - and _ between dots (punycode for other scripts)") }
            }
        }
        if authority.hasSuffix(":") || !port.isEmpty {
            guard !port.isEmpty, port.utf8.count <= 5, port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let number = Int(port), number <= 65535
            else { return Reason(text: "the port must be a number from 0 to 65535") }
        }
        return nil
    }
}
