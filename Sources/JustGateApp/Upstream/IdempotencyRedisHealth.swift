import JustGateCore
import JustGateRedis
import Logging

/// Whether the shared idempotency store (Redis) is working, shared by the loops so that an outage is
/// logged once when it starts and once when it ends, not once per loop or per request.
///
/// Each loop's store reports its own state (its connection, and whether its last reply was refused);
/// `LoopOutage` says when that begins or ends the outage.
final class IdempotencyRedisHealth: Sendable {
    private let outage = LoopOutage()
    private let logger: Logger
    private let endpoint: String

    init(logger: Logger, endpoint: RedisEndpoint) {
        self.logger = logger
        self.endpoint = endpoint.description
    }

    /// `loop`'s store is down (`down`) or working again; `reason` says why it is down, for the log.
    func report(_ loop: ObjectIdentifier, down: Bool, reason: String?) {
        switch outage.report(loop, down: down) {
        case .began?:
            logger.error("""
                Redis for Idempotency-Key is unavailable; profile.create with an Idempotency-Key gets 503 \
                until it is back (retrying in the background)
                """, metadata: ["redis": .string(endpoint), "reason": .string(reason ?? "unknown")])
        case .ended?:
            logger.notice("Idempotency-Key store is back on Redis", metadata: ["redis": .string(endpoint)])
        case nil:
            break
        }
    }
}
