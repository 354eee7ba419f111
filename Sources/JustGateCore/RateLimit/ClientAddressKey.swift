import JustGateHTTP

/// The `scope: ip` key of a validated `ip` value: one key per client network rather than per address.
///
/// An IPv6 host is routinely handed a whole /64 and may use any address in it, so keying per address gave
/// one host 2^64 fresh quotas; the key is the address's leading `rate_limit.ipv6_prefix_length` bits (64 by
/// default) written as `network/length`. IPv6 forms that carry an IPv4 address share that address's key:
/// IPv4-mapped `::ffff:a.b.c.d` (already plain IPv4 after validation) and NAT64's well-known prefix
/// `64:ff9b::/96` (RFC 6052), which an IPv6-only client's traffic to an IPv4 service arrives from. The
/// forwarded value is unchanged; only the key is coarser.
///
/// Not folded: the local-use NAT64 prefix `64:ff9b:1::/48` and other network-specific NAT64 prefixes (their
/// embedding depends on the operator's prefix length), 6to4 (`2002::/16`) and Teredo (`2001::/32`), which
/// embed an IPv4 address in bits an attacker chooses or spread one IPv4 site over 2^16 /64s.
enum ClientAddressKey {
    /// RFC 6052's well-known NAT64 prefix, `64:ff9b::/96`, as the high 64 bits (the next 32 bits are zero).
    static let nat64WellKnownHigh: UInt64 = 0x0064_ff9b_0000_0000

    /// The key text for `value`; the value itself when it is not an address (it always is after validation).
    static func key(of value: String, ipv6PrefixLength: Int) -> String {
        // A validated IPv4 address is already its key (dotted decimal, canonical): no parse on that path.
        guard value.utf8.contains(UInt8(ascii: ":")) else { return value }
        guard let parsed = IPAddress(value) else { return value }
        let address = embeddedIPv4(parsed)
        guard !address.isIPv4 else { return address.description }
        let length = min(max(ipv6PrefixLength, 0), 128)
        if length == 128 { return address.description }
        let (maskHigh, maskLow) = mask(length)
        return IPAddress(high: address.high & maskHigh, low: address.low & maskLow).description + "/\(length)"
    }

    /// The IPv4 address inside a well-known-prefix NAT64 address; anything else unchanged (an IPv4-mapped
    /// address already is its IPv4 address: `IPAddress` holds IPv4 that way).
    static func embeddedIPv4(_ address: IPAddress) -> IPAddress {
        if address.high == nat64WellKnownHigh, address.low >> 32 == 0 {
            return IPAddress(ipv4: UInt32(truncatingIfNeeded: address.low))
        }
        return address
    }

    /// The high and low 64-bit halves of a mask of `length` leading one bits (0...127).
    private static func mask(_ length: Int) -> (UInt64, UInt64) {
        if length == 0 { return (0, 0) }
        if length <= 64 { return (~UInt64(0) << UInt64(64 - length), 0) }
        return (~UInt64(0), ~UInt64(0) << UInt64(128 - length))
    }
}
