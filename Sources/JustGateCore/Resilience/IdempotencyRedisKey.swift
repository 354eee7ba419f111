/// The Redis key under which every gateway keeps one site's `Idempotency-Key`:
/// `justgate:idem:<site id>:<64 hex digits>`.
///
/// The key a site sends is never stored as it is. It is meant to be random (a UUID), but nothing stops a
/// site from building it out of the request (`signup-+79161234567`), and Redis is a shared, often
/// plaintext store whose keys show up in `MONITOR`, `SCAN` and slow logs. So the key is digested:
/// HMAC-SHA-256 under `rate_limit.key_secret` when the operator set one (then even a guessable key cannot
/// be recovered by trying candidates), plain SHA-256 otherwise (the raw text is still not there; a key
/// built from a phone number could be found by trying every number, which the README warns about). The
/// full 32 bytes are kept: a collision would hand one request another's answer. The site id stays
/// readable (ids are `[a-z0-9._-]`, checked by the loader) so an operator can count or drop one site's keys.
public struct IdempotencyRedisKey: Sendable {
    /// Every idempotency key starts with this, apart from the limiter's `justgate:rl:` keys.
    public static let prefix = "justgate:idem:"
    private let secret: [UInt8]?

    /// - Parameter secret: the bytes of `rate_limit.key_secret`, the same on every gateway; nil for SHA-256.
    public init(secret: [UInt8]?) {
        self.secret = secret
    }

    /// The Redis key of `key` sent by `siteID`. Site and key are joined by a NUL, which neither may
    /// contain, so no two (site, key) pairs digest the same bytes.
    public func redisKey(siteID: String, key: String) -> String {
        var message = Array(siteID.utf8)
        message.append(0)
        message.append(contentsOf: key.utf8)
        let digest: [UInt8]
        if let secret {
            digest = message.withUnsafeBytes { KeyedSHA256(key: secret).authenticationCode(for: $0) }
        } else {
            digest = message.withUnsafeBytes { SHA256State.digest(of: $0) }.withBytes { Array($0) }
        }
        return IdempotencyRedisKey.prefix + siteID + ":" + SiteKeyHex.encode(digest)
    }
}
