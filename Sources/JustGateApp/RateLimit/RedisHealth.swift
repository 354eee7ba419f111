import JustGateCore
import JustGateRedis
import Logging
import Synchronization

/// Whether the gateway's Redis limiter is working, shared by the loops so that a Redis outage is
/// logged once when it starts and once when it ends, not once per loop or per request.
final class RedisHealth: Sendable {
    private let down = Mutex(false)
    private let logger: Logger
    private let endpoint: String
    private let fallback: RateLimitBackendErrorPolicy

    init(logger: Logger, endpoint: RedisEndpoint, fallback: RateLimitBackendErrorPolicy) {
        self.logger = logger
        self.endpoint = endpoint.description
        self.fallback = fallback
    }

    /// Whether Redis is down now, so `on_backend_error` decides (for metrics).
    var isDown: Bool { down.withLock { $0 } }

    /// Whether the limiter refuses every limited request now: Redis is down and the fallback is `deny`.
    var isRefusing: Bool { fallback == .deny && down.withLock { $0 } }

    /// A loop's connection changed state.
    func connection(_ state: RedisConnection.State, reason: String?) {
        switch state {
        case .ready:
            let wasDown = down.withLock { down in
                defer { down = false }
                return down
            }
            if wasDown {
                logger.notice("rate limiting is back on Redis", metadata: ["redis": .string(endpoint)])
            }
        case .down:
            let wasUp = down.withLock { down in
                defer { down = true }
                return !down
            }
            if wasUp {
                logger.error("Redis for rate limiting is unavailable; retrying in the background",
                             metadata: ["redis": .string(endpoint), "reason": .string(reason ?? "unknown"),
                                        "on_backend_error": .string(fallback.rawValue)])
            }
        case .connecting:
            break
        }
    }
}
