/// One named limit of one site, as configured: at most `rate` requests `scope`, with bursts of
/// `burst`, for the listed operations (all of them when `operations` is nil).
public struct RateLimitPolicy: Sendable, Equatable {
    public var name: String
    public var scope: RateLimitScope
    public var operations: [String]?
    public var rate: RateLimitRate
    public var burst: Int

    public init(name: String, scope: RateLimitScope, operations: [String]? = nil, rate: RateLimitRate, burst: Int? = nil) {
        self.name = name
        self.scope = scope
        self.operations = operations
        self.rate = rate
        self.burst = burst ?? rate.count
    }

    public var limit: GCRALimit {
        GCRALimit(count: rate.count, periodMicros: rate.period.seconds * 1_000_000, burst: burst)
    }

    /// Whether a request for `operationID` is counted by this policy.
    public func applies(to operationID: String) -> Bool {
        operations.map { $0.contains(operationID) } ?? true
    }

    /// The policy in words, as `check-config` and `justgate sites` print it:
    /// "at most 3 subscribe.sms per phone number per hour, bursts of 3".
    public var sentence: String {
        let what = operations.map { $0.joined(separator: " or ") } ?? "requests"
        return "\(name): at most \(rate.count) \(what) \(scope.phrase) per \(rate.period.word), bursts of \(burst)"
    }
}

/// Which limiter keeps the counts.
public enum RateLimitBackend: String, Sendable, CaseIterable {
    /// In this process: exact for one gateway, not shared with others.
    case memory
    /// In Redis, shared by every gateway that points at it.
    case redis
}

/// What to do with requests while Redis cannot be reached or does not answer in time.
public enum RateLimitBackendErrorPolicy: String, Sendable, CaseIterable {
    /// Count in this process's memory until Redis is back: limits stay on, per node.
    case local
    /// Let requests through unlimited.
    case allow
    /// Answer 503: nothing passes that was not counted.
    case deny
}

/// The `rate_limit:` section: the backend shared by every site's policies.
public struct RateLimitConfig: Sendable, Equatable {
    public var backend: RateLimitBackend
    public var redisURL: String?
    public var redisTimeoutMs: Int
    public var onBackendError: RateLimitBackendErrorPolicy
    /// The most keys the memory limiter holds; past it the keys closest to full recovery go first.
    public var maxKeys: Int
    /// `key_secret`: the HMAC key of per-user Redis keys, shared by every gateway on the Redis. Without it
    /// a per-user key is a plain SHA-256 prefix, which brute force reverses for phone numbers.
    public var keySecret: SecretSource?
    /// `ipv6_prefix_length`: the leading bits of an IPv6 address that key `scope: ip` policies (32...128,
    /// default 64), so one host's /64 is one client, not 2^64 (see `ClientAddressKey`).
    public var ipv6PrefixLength: Int

    public init(backend: RateLimitBackend = .memory, redisURL: String? = nil, redisTimeoutMs: Int = 5,
                onBackendError: RateLimitBackendErrorPolicy = .local, maxKeys: Int = 1_000_000,
                keySecret: SecretSource? = nil,
                ipv6PrefixLength: Int = RateLimitKeyOptions.defaultIPv6PrefixLength) {
        self.backend = backend
        self.redisURL = redisURL
        self.redisTimeoutMs = redisTimeoutMs
        self.onBackendError = onBackendError
        self.maxKeys = maxKeys
        self.keySecret = keySecret
        self.ipv6PrefixLength = ipv6PrefixLength
    }
}
