import JustGateCore
import JustGateReactor
import JustGateRedis
import JustGateServer
import Logging
import Synchronization

/// What every loop's `RedisOutboxStore` shares, made once at start (`outbox` changes need a restart): where
/// Redis is, the delivery policy and bounds, this process's counters for `/metrics`, and the outage log.
///
/// Each loop has its own connection (a `RedisConnection` is loop-confined, and no command blocks), so the
/// loops of all gateways on one Redis are peers: any of them may claim any due key.
final class RedisOutboxShared: Sendable {
    let endpoint: RedisEndpoint
    let target: RedisTarget
    let policy: DeliveryPolicy
    let maxBytes: Int
    let leaseMs: Int
    /// How long a command may wait for its reply before the connection is counted as down.
    let timeoutMs: Int
    /// How long a delivered entry is remembered for `GET /justgate/v1/deliveries/<id>` (an hour).
    let keepDeliveredMs = 3_600_000
    let logger: Logger
    /// Asked once, when the first connection is ready: whether this Redis persists the entries at all.
    let persistence: RedisPersistenceCheck
    /// Counted by this process's loops: summed over gateways by whoever scrapes them all.
    let counts = Mutex(OutboxCounts())
    /// Bytes, and each site's pending and dead entries and oldest age, as the last `stats` read them
    /// (Redis-wide: the same on every gateway), for scrapes that must not wait on Redis.
    let totals = Mutex(RedisOutboxTotals())
    private let outage = LoopOutage()
    /// When (monotonic µs) a script error was last logged: at most one a minute, however many calls meet it.
    private let scriptErrorLoggedAt = Mutex(Int64.min)
    /// When (monotonic µs) a loop last read the Redis-wide readings: every loop has a timer, one of them reads.
    private let statsReadAt = Mutex(Int64.min)

    init(_ config: OutboxConfig, logger: Logger, timeoutMs: Int = 2000) throws(GatewayStartError) {
        guard let url = config.redisURL else { throw GatewayStartError("outbox.backend: redis needs outbox.redis_url") }
        switch RedisEndpoint.parse(url) {
        case .success(let parsed): endpoint = parsed
        case .failure(let problem): throw GatewayStartError("outbox.redis_url: \(problem.message)")
        }
        target = try RedisTargetResolver.resolve(endpoint, setting: "outbox.redis_url")
        policy = DeliveryPolicy(config)
        maxBytes = config.maxBytes
        leaseMs = config.leaseMs
        self.timeoutMs = timeoutMs
        self.logger = logger
        persistence = RedisPersistenceCheck(endpoint: endpoint, holds: "deferred calls (outbox)", keepsCalls: true,
                                            logger: logger)
    }

    /// The commands every new connection sends first: credentials, database, and the script.
    var handshake: [[String]] {
        var handshake: [[String]] = []
        if let password = endpoint.password {
            handshake.append(endpoint.username.map { ["AUTH", $0, password.reveal()] } ?? ["AUTH", password.reveal()])
        }
        if endpoint.database != 0 { handshake.append(["SELECT", String(endpoint.database)]) }
        handshake.append(["SCRIPT", "LOAD", RedisOutboxScript.source])
        return handshake
    }

    /// What `/metrics` shows with Redis: this process's counters, and the Redis-wide bytes and per-site depth,
    /// dead entries and oldest age (kept per site by the script, so reading them costs a few commands a site).
    func readings() -> OutboxReadings {
        let totals = self.totals.withLock { $0 }
        return OutboxReadings(sites: totals.sites, bytes: totals.bytes, maxBytes: maxBytes, counts: counts.withLock { $0 })
    }

    /// Whether the calling loop should read the Redis-wide readings now: true for the first loop whose timer
    /// fires `intervalMs` or more after the last read. The readings are the same for every loop of every
    /// gateway, so one read per process per interval is enough.
    func claimStatsRead(intervalMs: Int) -> Bool {
        let now = MonotonicInstant.now().microseconds
        return statsReadAt.withLock { last in
            guard last == Int64.min || now - last >= Int64(intervalMs) * 1000 else { return false }
            last = now
            return true
        }
    }

    /// The claimed read got no readings (this loop's connection down): the next loop whose timer fires reads.
    func releaseStatsClaim() {
        statsReadAt.withLock { $0 = Int64.min }
    }

    /// Redis answered the script with an error (`-OOM` past `maxmemory`, `-ERR`): the call it served fails
    /// (503, or the delivery waits), and it is logged at most once a minute; not an outage (Redis is up).
    func scriptFailed(_ text: String) {
        let now = MonotonicInstant.now().microseconds
        let due = scriptErrorLoggedAt.withLock { last in
            guard last == Int64.min || now - last >= 60_000_000 else { return false }
            last = now
            return true
        }
        guard due else { return }
        logger.error("Redis refused an outbox operation: \(RedisErrorKind(errorText: text)) (logged at most once a minute)",
                     metadata: ["redis": .string(endpoint.description), "reply": .string(String(text.prefix(200)))])
    }

    /// `loop`'s store is down or working again: the outage is logged once when the first loop goes down and
    /// once when the last one is back (`LoopOutage`).
    func report(_ loop: ObjectIdentifier, down: Bool, reason: String?) {
        switch outage.report(loop, down: down) {
        case .began?:
            logger.error("""
                Redis for the outbox is unavailable; calls that would be deferred get 503 and delivery pauses \
                until it is back (retrying in the background)
                """, metadata: ["redis": .string(endpoint.description), "reason": .string(reason ?? "unknown")])
        case .ended?:
            logger.notice("the outbox is back on Redis; delivery goes on", metadata: ["redis": .string(endpoint.description)])
        case nil:
            break
        }
    }
}
