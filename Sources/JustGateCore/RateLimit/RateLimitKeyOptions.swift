/// How per-user values become rate-limit keys, where one person can write themselves many ways.
///
/// The validated value is what is forwarded; the key may be coarser, so that a client cannot mint fresh
/// quota by changing what only it controls: the low 64 bits of its IPv6 address (`ClientAddressKey`), or
/// the `+tag` and Gmail dots of its e-mail address (`EmailLimitKey`).
public struct RateLimitKeyOptions: Sendable, Equatable {
    /// `rate_limit.ipv6_prefix_length`'s default: one /64 is what one subscriber line, one host or one
    /// cloud VM is handed, and SLAAC lets its owner use any of its 2^64 addresses.
    public static let defaultIPv6PrefixLength = 64
    /// Shortest and longest prefix `rate_limit.ipv6_prefix_length` accepts: a /32 is a whole provider's
    /// allocation (shorter would throttle strangers together), /128 keys each address alone.
    public static let ipv6PrefixLengths = 32...128

    /// The leading bits of an IPv6 address that make its `scope: ip` key (global `rate_limit` setting).
    public var ipv6PrefixLength: Int
    /// The site's `email.fold_for_limits`.
    public var foldEmail: Bool

    public init(ipv6PrefixLength: Int = defaultIPv6PrefixLength, foldEmail: Bool = false) {
        self.ipv6PrefixLength = ipv6PrefixLength
        self.foldEmail = foldEmail
    }
}
