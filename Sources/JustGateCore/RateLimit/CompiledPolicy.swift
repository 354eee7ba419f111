/// A site's rate-limit policy ready for the hot path: its GCRA numbers, the hash that keys its
/// memory entries, the prefix of its Redis keys and its `RateLimit-Policy` header item, all worked
/// out once when the config is loaded rather than per request.
public final class CompiledPolicy: Sendable {
    public let name: String
    public let scope: RateLimitScope
    public let limit: GCRALimit
    /// Identity of the policy's counts: the same site, name, scope, operations, rate and burst after a
    /// reload give the same identity, so their state survives; a changed policy starts afresh.
    public let identity: Int
    /// `justgate:rl:{site}:{policy}:{interval}x{burst}`; per-user keys append a digest of the normalised value.
    public let redisPrefix: String
    /// `"name";q=…;w=…`, the policy's item of the `RateLimit-Policy` field.
    public let policyItem: String
    /// How this site's per-user values become keys (`ClientAddressKey`, `EmailLimitKey`).
    public let keyOptions: RateLimitKeyOptions

    public init(_ policy: RateLimitPolicy, siteID: String, keyOptions: RateLimitKeyOptions = RateLimitKeyOptions()) {
        name = policy.name
        scope = policy.scope
        limit = policy.limit
        self.keyOptions = keyOptions
        var hasher = Hasher()
        hasher.combine(siteID)
        hasher.combine(policy.name)
        hasher.combine(policy.scope.rawValue)
        hasher.combine(policy.operations ?? [])
        hasher.combine(policy.rate)
        hasher.combine(policy.burst)
        identity = hasher.finalize()
        // The GCRA numbers are part of the key, so a changed rate or burst starts afresh in Redis as in
        // memory: an instant stored under a looser policy would otherwise lie beyond what the new policy can
        // store, and `QuotaReplyDecoder` refuses such an instant as implausible.
        redisPrefix = "justgate:rl:\(siteID):\(policy.name):\(limit.interval)x\(limit.burst)"
        policyItem = RateLimitFields.policyItem(name: policy.name, quota: limit.burst,
                                                 windowSeconds: limit.windowMicros.wholeSecondsRoundedUp)
    }

    /// The key of this policy for a request: the policy alone for the site scope, the policy and
    /// the operation for the operation scope, the policy and the normalised field value for
    /// per-user scopes (an IPv6 address by its network, an e-mail address folded if the site asks: see
    /// `RateLimitKeyOptions`); nil when the request lacks that field, so it is not counted.
    public func check(operationID: String, fields: ValidatedRequest) -> QuotaCheck? {
        let value: String
        switch scope {
        case .site:
            return QuotaCheck(policy: self, keyHash: identity, value: nil)
        case .operation:
            value = operationID
        case .ip, .number, .email, .juid:
            guard let field = scope.fieldName, let given = fields.value(of: field), !given.isEmpty else { return nil }
            value = keyValue(given)
        }
        var hasher = Hasher()
        hasher.combine(identity)
        hasher.combine(value)
        return QuotaCheck(policy: self, keyHash: hasher.finalize(), value: value)
    }
}

extension CompiledPolicy {
    /// The key text of a per-user field's validated value: coarser than the value where one person has
    /// many spellings the validator must keep (an IPv6 /64, a tagged e-mail address).
    func keyValue(_ value: String) -> String {
        switch scope {
        case .ip: ClientAddressKey.key(of: value, ipv6PrefixLength: keyOptions.ipv6PrefixLength)
        case .email where keyOptions.foldEmail: EmailLimitKey.key(of: value)
        default: value
        }
    }
}

/// One policy's count that one request must pass.
public struct QuotaCheck: Sendable {
    public let policy: CompiledPolicy
    /// Key of the memory limiter's entry (a per-process seeded hash: unpredictable to clients).
    public let keyHash: Int
    /// The key text of the normalised field value for per-user scopes (`CompiledPolicy.keyValue`).
    public let value: String?

    /// Public for the fuzz target, which builds checks without a validated request.
    public init(policy: CompiledPolicy, keyHash: Int, value: String?) {
        self.policy = policy
        self.keyHash = keyHash
        self.value = value
    }

    /// The Redis key; per-user values are stored as a digest (`RateLimitKeyDigest`: an HMAC under
    /// `rate_limit.key_secret`), so Redis never holds a phone number or an e-mail address.
    public func redisKey(_ digest: RateLimitKeyDigest) -> String {
        guard let value else { return policy.redisPrefix }
        return policy.redisPrefix + ":" + digest.hex(of: value)
    }
}
