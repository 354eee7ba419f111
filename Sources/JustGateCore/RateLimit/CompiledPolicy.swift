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

    public init(_ policy: RateLimitPolicy, siteID: String) {
        name = policy.name
        scope = policy.scope
        limit = policy.limit
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
    /// per-user scopes; nil when the request lacks that field, so it is not counted.
    public func check(operationID: String, fields: ValidatedRequest) -> QuotaCheck? {
        let value: String
        switch scope {
        case .site:
            return QuotaCheck(policy: self, keyHash: identity, value: nil)
        case .operation:
            value = operationID
        case .ip, .number, .email, .juid:
            guard let field = scope.fieldName, let given = fields.value(of: field), !given.isEmpty else { return nil }
            value = given
        }
        var hasher = Hasher()
        hasher.combine(identity)
        hasher.combine(value)
        return QuotaCheck(policy: self, keyHash: hasher.finalize(), value: value)
    }
}

/// One policy's count that one request must pass.
public struct QuotaCheck: Sendable {
    public let policy: CompiledPolicy
    /// Key of the memory limiter's entry (a per-process seeded hash: unpredictable to clients).
    public let keyHash: Int
    /// The normalised field value for per-user scopes.
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
