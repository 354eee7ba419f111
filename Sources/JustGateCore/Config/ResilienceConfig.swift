/// `upstream.retries`: how failed upstream calls are tried again (see `RetryPolicy` for which are).
public struct RetryConfig: Sendable, Equatable {
    /// Attempts in all, the first included; 1 turns retries off.
    public var maxAttempts: Int = 3
    /// Retries may be at most this share of the calls of the last 10 s.
    public var budgetPercent: Int = 20
    /// Retries always allowed per 10 s, however few calls there were.
    public var budgetMinRetries: Int = 10
    /// The first backoff is a random wait up to this; each later one doubles the ceiling.
    public var baseDelayMs: Int = 50
    /// No backoff ceiling grows past this.
    public var maxDelayMs: Int = 1000
    /// Longest single attempt; `nil` lets an attempt use all that is left of the request's
    /// deadline (then only a connection failure leaves time for a retry).
    public var attemptTimeoutMs: Int?

    /// Builds the documented defaults; adjust fields afterwards.
    public init() {}

    /// The retry rule these settings describe.
    public var policy: RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, baseDelayMs: baseDelayMs, maxDelayMs: maxDelayMs)
    }
}

/// `upstream.circuit`: when to stop calling an upstream that keeps failing.
public struct CircuitConfig: Sendable, Equatable {
    /// Consecutive failed attempts that open the circuit.
    public var failures: Int = 5
    /// How long an open circuit refuses calls before one probe is let through.
    public var openMs: Int = 10_000

    /// Builds the documented defaults; adjust fields afterwards.
    public init() {}
}

/// `idempotency`: how long `Idempotency-Key`s of `profile.create` are remembered, how many, and where.
public struct IdempotencyConfig: Sendable, Equatable {
    /// A retry with the same key within this many seconds gets the first answer.
    public var ttlSeconds: Int = 600
    /// Keys remembered at once, all sites together; past it the oldest is forgotten (memory backend:
    /// Redis keeps each key `ttl_s` and is bounded by its own `maxmemory`).
    public var maxKeys: Int = 100_000
    /// Where keys live: this process, or a Redis every gateway behind one load balancer shares, so a
    /// retry that lands on another gateway still finds the first request.
    public var backend: IdempotencyBackendKind = .memory
    /// `redis_url`, required with `backend: redis` (the same forms as `rate_limit.redis_url`).
    public var redisURL: String?
    /// How long one Redis call may take before the request gets 503 (one call per keyed `profile.create`,
    /// so the default is more generous than the limiter's).
    public var redisTimeoutMs: Int = 50

    /// Builds the documented defaults; adjust fields afterwards.
    public init() {}
}

/// `idempotency.backend`.
public enum IdempotencyBackendKind: String, Sendable, CaseIterable {
    /// In this process: a retry that reaches another gateway is not recognised.
    case memory
    /// In Redis, shared by every gateway that points at it.
    case redis
}
