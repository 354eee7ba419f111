import JustGateCore
import JustGateRedis
import JustGateReactor
import JustGateServer
import Logging

/// What every loop's `RedisIdempotencyStore` needs, worked out once at start (`idempotency` changes
/// need a restart): nil for the memory backend.
struct IdempotencyRedisSettings: Sendable {
    let endpoint: RedisEndpoint
    let target: RedisTarget
    let timeoutMs: Int
    let ttlMs: Int64
    let keys: IdempotencyRedisKey
    let health: IdempotencyRedisHealth
    /// Whether this Redis persists anything, asked once at start (shared with the outbox's when it is the same
    /// server: set by `GatewayRuntime`).
    var persistence: RedisPersistenceCheck?

    /// - Parameter keySecret: the bytes of `rate_limit.key_secret`: with it, keys are HMACs (see `IdempotencyRedisKey`).
    init?(_ config: IdempotencyConfig, keySecret: [UInt8]?, logger: Logger) throws(GatewayStartError) {
        guard config.backend == .redis, let url = config.redisURL else { return nil }
        switch RedisEndpoint.parse(url) {
        case .success(let parsed): endpoint = parsed
        case .failure(let problem): throw GatewayStartError("idempotency.redis_url: \(problem.message)")
        }
        target = try RedisTargetResolver.resolve(endpoint, setting: "idempotency.redis_url")
        timeoutMs = config.redisTimeoutMs
        ttlMs = Int64(config.ttlSeconds) * 1000
        keys = IdempotencyRedisKey(secret: keySecret)
        health = IdempotencyRedisHealth(logger: logger, endpoint: endpoint)
    }

    /// The store of one loop, with its own connection.
    func store(on loop: EventLoop) -> RedisIdempotencyStore {
        RedisIdempotencyStore(loop: loop, target: target, endpoint: endpoint, timeoutMs: timeoutMs, ttlMs: ttlMs,
                              keys: keys, health: health, persistence: persistence)
    }
}
