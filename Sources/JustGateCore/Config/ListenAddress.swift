/// A socket address to listen on, parsed from the `host:port` form operators write in the config.
///
/// Only literal addresses (and `localhost`) are accepted, never host names: a listener must not depend on DNS at
/// start-up, and what it binds to must be obvious from the file.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// IPv4 dotted quad, IPv6 literal without brackets, or `localhost`.
    public var host: String
    /// 0...65535; 0 asks the system for a free port (tests use this).
    public var port: Int

    /// Builds an address from parts already known to be valid.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `127.0.0.1:8080`, `[::1]:8080` or `localhost:0`; `nil` for anything else.
    public init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            portText = rest.dropFirst()
            guard ConfigIPLiteral.ipv6Groups(host) != nil else { return nil }
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard host == "localhost" || ConfigIPLiteral.ipv4Octets(host) != nil else { return nil }
        }
        guard let port = ListenAddress.port(portText) else { return nil }
        self.host = String(host)
        self.port = port
    }

    /// What `serve` logs and `check-config` prints when the site listener is not on loopback: one sentence, so
    /// the two never drift apart. `nil` on loopback.
    public var exposureWarning: String? {
        guard !isLoopback else { return nil }
        let wildcard = host == "0.0.0.0" || host == "::" || host == "[::]"
        let scope = wildcard ? " (\(host) is every interface of this machine)" : ""
        return "listening on a non-loopback address\(scope): anything that reaches this port can try site keys; "
            + "put justgate behind a firewall"
    }

    /// Whether only this machine can connect, which is what the admin listener should normally be.
    public var isLoopback: Bool {
        if host == "localhost" { return true }
        if let octets = ConfigIPLiteral.ipv4Octets(Substring(host)) { return octets[0] == 127 }
        guard let groups = ConfigIPLiteral.ipv6Groups(Substring(host)) else { return false }
        if groups[0..<7].allSatisfy({ $0 == 0 }) && groups[7] == 1 { return true }
        // IPv4-mapped loopback, ::ffff:127.x.y.z
        let isMapped = groups[0..<5].allSatisfy { $0 == 0 } && groups[5] == 0xFFFF
        return isMapped && groups[6] >> 8 == 127
    }

    /// `host:port`, with IPv6 hosts bracketed so the text parses back to the same address.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    private static func port(_ text: Substring) -> Int? {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        guard let value = Int(text), value <= 65_535 else { return nil }
        return value
    }
}

/// Strict parsers for textual IP addresses, used to check listen addresses without touching the network.
enum ConfigIPLiteral {
    /// Four decimal octets without leading zeros (which some parsers read as octal).
    static func ipv4Octets(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.utf8.count),
                  part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  part.utf8.count == 1 || part.utf8.first != 0x30,
                  let value = UInt8(part)
            else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// Eight 16-bit groups, allowing one `::` and a trailing dotted IPv4 part; no zone ids.
    static func ipv6Groups(_ text: Substring) -> [UInt16]? {
        guard let gap = text.firstRange(of: "::") else {
            guard let all = groups(text, allowIPv4: true), all.count == 8 else { return nil }
            return all
        }
        let after = text[gap.upperBound...]
        guard !after.contains("::"),
              let head = groups(text[..<gap.lowerBound], allowIPv4: false),
              let tail = groups(after, allowIPv4: true),
              head.count + tail.count <= 7
        else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    private static func groups(_ text: Substring, allowIPv4: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var result: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if allowIPv4, index == parts.count - 1, part.contains(".") {
                guard let octets = ipv4Octets(part) else { return nil }
                result.append(UInt16(octets[0]) << 8 | UInt16(octets[1]))
                result.append(UInt16(octets[2]) << 8 | UInt16(octets[3]))
                continue
            }
            guard (1...4).contains(part.utf8.count), let value = UInt16(part, radix: 16) else { return nil }
            result.append(value)
        }
        return result
    }
}
