/// Who the client of a request is when proxies stand in front of the gateway: the one place that decides it.
///
/// A proxy connects on the client's behalf, so the socket's peer is the proxy; the client's address comes only
/// from the `X-Forwarded-For` list the proxies build, each appending the address that connected to it. Anyone
/// can send that header, so it is believed only as far as a chain of trusted proxies vouches for it:
///
/// - A peer that is not a trusted proxy is the client; its `X-Forwarded-For` is ignored (a spoof).
/// - From a trusted peer, the list is walked from the right: an entry that is itself a trusted proxy was
///   appended by the hop before it, so the walk goes on; the first entry that is not trusted is the client.
/// - If every entry is trusted, the left-most one is the client.
/// - A malformed or empty entry ends the walk, and the client is the last trusted address reached (the peer when
///   the right-most entry is malformed): what lies left of garbage was never vouched for by a trusted hop, so
///   the answer is never an address the client could have chosen.
///
/// Entries are IP addresses, optionally with a port (`1.2.3.4:5678`, `[2001:db8::1]:443`) or in brackets
/// (`[::1]`), as some proxies write them; the port is dropped. Nothing else (`unknown`, RFC 7239's obfuscated
/// identifiers, host names) is an address. Several `X-Forwarded-For` lines are one list, in order (RFC 9110 §5.3).
public enum ClientAddress {
    /// The request's client address: `peer` itself unless `peer` is in `trusted`, otherwise as described above.
    /// An address taken from the list is returned in its canonical form (`IPAddress.description`).
    ///
    /// With no trusted proxies (the default) this returns `peer` at once without looking at a header: the
    /// common case costs nothing.
    ///
    /// - Parameters:
    ///   - peer: the socket's peer address as text (`10.0.0.1`, `::1`, `::ffff:10.0.0.1`).
    ///   - forwardedFor: the values of every `X-Forwarded-For` line, in the order received.
    ///   - trusted: `server.trusted_proxies`.
    public static func resolve(
        peer: String, forwardedFor: some BidirectionalCollection<String>, trusted: [IPNetwork]
    ) -> String {
        guard !trusted.isEmpty, let peerAddress = IPAddress(peer), isTrusted(peerAddress, trusted) else { return peer }
        var reached: IPAddress?
        for value in forwardedFor.reversed() {
            var rest = value[...]
            var more = true
            while more {
                let entry: Substring
                if let comma = rest.lastIndex(of: ",") {
                    entry = rest[rest.index(after: comma)...]
                    rest = rest[..<comma]
                } else {
                    entry = rest
                    more = false
                }
                guard let address = forwardedAddress(entry) else {
                    return reached?.description ?? peer
                }
                if !isTrusted(address, trusted) { return address.description }
                reached = address
            }
        }
        return reached?.description ?? peer
    }

    /// `resolve` with the `X-Forwarded-For` lines taken from a parsed head; names compared case-insensitively.
    public static func resolve(peer: String, head: HTTPRequestHead, trusted: [IPNetwork]) -> String {
        guard !trusted.isEmpty else { return peer }
        return resolve(peer: peer, forwardedFor: head.values(for: "X-Forwarded-For"), trusted: trusted)
    }

    @inline(__always)
    static func isTrusted(_ address: IPAddress, _ trusted: [IPNetwork]) -> Bool {
        trusted.contains { $0.contains(address) }
    }

    /// One list entry as an address: `a.b.c.d`, `a.b.c.d:port`, an IPv6 literal, `[v6]` or `[v6]:port`, with
    /// spaces and tabs around it. Nil for anything else, an empty entry included.
    static func forwardedAddress(_ entry: Substring) -> IPAddress? {
        var text = entry
        while let first = text.utf8.first, first == 0x20 || first == 0x09 { text = text.dropFirst() }
        while let last = text.utf8.last, last == 0x20 || last == 0x09 { text = text.dropLast() }
        guard !text.isEmpty else { return nil }
        if text.utf8.first == 0x5B {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let after = text[text.index(after: close)...]
            guard after.isEmpty || isPort(after) else { return nil }
            let inside = text[text.index(after: text.startIndex)..<close]
            guard inside.contains(":"), let address = IPAddress(inside) else { return nil }
            return address
        }
        if let colon = text.firstIndex(of: ":"), text.lastIndex(of: ":") == colon, text[..<colon].contains(".") {
            // a.b.c.d:port: one colon after a dotted quad, which no IPv6 literal has.
            guard isPort(text[colon...]), let address = IPAddress(text[..<colon]), address.isIPv4 else { return nil }
            return address
        }
        return IPAddress(text)
    }

    /// `:` and a port number, 0 to 65535.
    private static func isPort(_ text: Substring) -> Bool {
        let digits = text.utf8.dropFirst()
        guard text.utf8.first == 0x3A, (1...5).contains(digits.count) else { return false }
        var value = 0
        for byte in digits {
            guard let digit = ASCIIDigit.decimal(byte) else { return false }
            value = value * 10 + Int(digit)
        }
        return value <= 65_535
    }
}
