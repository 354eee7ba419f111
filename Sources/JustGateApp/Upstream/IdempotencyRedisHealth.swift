import JustGateCore
import JustGateRedis
import Logging
import Synchronization

/// Whether the shared idempotency store (Redis) is working, shared by the loops so that an outage is
/// logged once when it starts and once when it ends, like the limiter's `RedisHealth`.
final class IdempotencyRedisHealth: Sendable {
    private let down = Mutex(false)
    private let logger: Logger
    private let endpoint: String

    init(logger: Logger, endpoint: RedisEndpoint) {
        self.logger = logger
        self.endpoint = endpoint.description
    }

    /// Whether Redis is down now: keyed `profile.create` requests get 503.
    var isDown: Bool { down.withLock { $0 } }

    /// A loop's connection (or a reply it refused) changed state.
    func connection(_ state: RedisConnection.State, reason: String?) {
        switch state {
        case .ready:
            let wasDown = down.withLock { down in
                defer { down = false }
                return down
            }
            if wasDown {
                logger.notice("Idempotency-Key store is back on Redis", metadata: ["redis": .string(endpoint)])
            }
        case .down:
            let wasUp = down.withLock { down in
                defer { down = true }
                return !down
            }
            if wasUp {
                logger.error("""
                    Redis for Idempotency-Key is unavailable; profile.create with an Idempotency-Key gets 503 \
                    until it is back (retrying in the background)
                    """, metadata: ["redis": .string(endpoint), "reason": .string(reason ?? "unknown")])
            }
        case .connecting:
            break
        }
    }
}
