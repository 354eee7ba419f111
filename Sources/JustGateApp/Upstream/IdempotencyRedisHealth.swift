import JustGateCore
import JustGateRedis
import Logging
import Synchronization

/// Whether the shared idempotency store (Redis) is working, shared by the loops so that an outage is
/// logged once when it starts and once when it ends, not once per loop or per request.
///
/// Each loop's store reports its own state (its connection, and whether its last reply was refused), and
/// the outage lasts from the first loop that is down to the last one that is back. Counting loops, not
/// events, matters: a loop whose first connection is set up just after another loop refused a reply
/// must not log the outage's end (and then its start again).
final class IdempotencyRedisHealth: Sendable {
    private let loopsDown = Mutex(Set<ObjectIdentifier>())
    private let logger: Logger
    private let endpoint: String

    init(logger: Logger, endpoint: RedisEndpoint) {
        self.logger = logger
        self.endpoint = endpoint.description
    }

    /// `loop`'s store is down (`down`) or working again; `reason` says why it is down, for the log.
    func report(_ loop: ObjectIdentifier, down: Bool, reason: String?) {
        let (before, after) = loopsDown.withLock { set in
            let before = set.count
            if down { set.insert(loop) } else { set.remove(loop) }
            return (before, set.count)
        }
        if before == 0 && after > 0 {
            logger.error("""
                Redis for Idempotency-Key is unavailable; profile.create with an Idempotency-Key gets 503 \
                until it is back (retrying in the background)
                """, metadata: ["redis": .string(endpoint), "reason": .string(reason ?? "unknown")])
        } else if before > 0 && after == 0 {
            logger.notice("Idempotency-Key store is back on Redis", metadata: ["redis": .string(endpoint)])
        }
    }
}
