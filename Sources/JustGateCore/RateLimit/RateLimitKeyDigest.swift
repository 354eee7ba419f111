/// Turns a per-user rate-limit value (a normalised phone number, e-mail address, IP or juid) into the part
/// of its Redis key, so Redis never holds the value itself.
///
/// With `rate_limit.key_secret` it is the first 128 bits of HMAC-SHA-256(secret, value): without the secret,
/// a key cannot be linked to a phone number even by trying all of them. Without a secret it is the first 96
/// bits of SHA-256(value), as before, which hides a value from a casual reader but not from brute force (the
/// whole Russian mobile range is some 10^9 numbers, hours of hashing); the loader warns about that. The HMAC is
/// the audit chain's (`KeyedSHA256`), keyed once. The memory limiter keys by a per-process seeded `Hasher`
/// and needs neither.
///
/// Not `Sendable` (it holds the keyed pads): each event loop's Redis limiter makes its own.
public struct RateLimitKeyDigest {
    private let keyed: KeyedSHA256?

    /// - Parameter secret: the bytes of `rate_limit.key_secret`; nil for the plain SHA-256 prefix.
    public init(secret: [UInt8]?) {
        keyed = secret.map(KeyedSHA256.init)
    }

    public var isKeyed: Bool { keyed != nil }

    /// Lowercase hex of the value's digest, as it appears after the policy's prefix in the Redis key.
    public func hex(of value: String) -> String {
        guard let keyed else { return SiteKeyHex.encode(Array(SiteKeys.sha256(value).prefix(12))) }
        var value = value
        let code = value.withUTF8 { keyed.authenticationCode(for: UnsafeRawBufferPointer($0)) }
        return SiteKeyHex.encode(Array(code.prefix(16)))
    }
}
