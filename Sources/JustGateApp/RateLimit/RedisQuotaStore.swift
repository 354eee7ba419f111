import JustGateCore
import JustGateRedis
import JustGateReactor

/// The Redis limiter of one event loop: one pipelined connection, one `EVALSHA` per request
/// carrying all of its policies. The script is loaded when the connection is set up; if Redis
/// forgets it (`SCRIPT FLUSH`, a failover) the call is repeated once with `EVAL`.
final class RedisQuotaStore: SharedQuotaStore {
    private let connection: RedisConnection
    private var scriptDigest: String?
    /// Reports outages to `RedisHealth`; also used for replies the decoder refuses.
    private let onStateChange: (RedisConnection.State, String?) -> Void
    /// Whether this loop reported a refused reply as an outage that no good reply has ended yet.
    private var replyRefused = false
    /// Per-user key digests: HMAC under `rate_limit.key_secret`, or the plain SHA-256 prefix without one.
    private let keyDigest: RateLimitKeyDigest

    init(loop: EventLoop, target: RedisTarget, endpoint: RedisEndpoint, timeoutMs: Int, keySecret: [UInt8]?,
         onStateChange: @escaping (RedisConnection.State, String?) -> Void) {
        keyDigest = RateLimitKeyDigest(secret: keySecret)
        var handshake: [[String]] = []
        if let password = endpoint.password {
            handshake.append(endpoint.username.map { ["AUTH", $0, password.reveal()] } ?? ["AUTH", password.reveal()])
        }
        if endpoint.database != 0 { handshake.append(["SELECT", String(endpoint.database)]) }
        handshake.append(["SCRIPT", "LOAD", RedisQuotaScript.source])
        self.onStateChange = onStateChange
        connection = RedisConnection(loop: loop, target: target, handshake: handshake, timeoutMs: timeoutMs,
                                     onStateChange: onStateChange)
        connection.connect()
    }

    /// Whether a call now would go to Redis (connected, or on its first connection).
    var isUsable: Bool { connection.acceptsCommands }

    /// Decides `checks` in Redis; `completion` gets the verdict, or nil when Redis failed.
    func admit(_ checks: [QuotaCheck], completion: @escaping (QuotaVerdict?) -> Void) {
        if scriptDigest == nil, case .bulk(let bytes?) = connection.handshakeReplies.last {
            scriptDigest = String(decoding: bytes, as: UTF8.self)
        }
        var arguments: [String] = []
        arguments.reserveCapacity(3 + checks.count * 3)
        arguments.append("EVALSHA")
        arguments.append(scriptDigest ?? "")
        arguments.append(String(checks.count))
        for check in checks { arguments.append(check.redisKey(keyDigest)) }
        for check in checks {
            arguments.append(String(check.policy.limit.interval))
            arguments.append(String(check.policy.limit.tolerance))
        }
        connection.send(arguments) { [weak self] result in
            guard let self else { return completion(nil) }
            switch result {
            case .success(let reply) where reply.errorCode == "NOSCRIPT":
                arguments[0] = "EVAL"
                arguments[1] = RedisQuotaScript.source
                self.connection.send(arguments) { [weak self] retry in
                    guard let self else { return completion(nil) }
                    completion(self.verdict(for: checks, reply: retry))
                }
            default:
                completion(self.verdict(for: checks, reply: result))
            }
        }
    }

    /// The verdict from a reply, or nil (the fallback) when Redis failed or answered something no honest
    /// Redis sends. A refused reply is reported like a dropped connection, so `RedisHealth` logs the
    /// outage once, and its end once when a good reply comes back; the connection itself stays up.
    private func verdict(for checks: [QuotaCheck], reply: Result<RESPValue, RedisFailure>) -> QuotaVerdict? {
        // A connection failure was already reported by the connection.
        guard case .success(let value) = reply else { return nil }
        switch RedisQuotaStore.verdict(for: checks, reply: value) {
        case .success(let verdict):
            if replyRefused {
                replyRefused = false
                onStateChange(.ready, nil)
            }
            return verdict
        case .failure(let rejection):
            if !replyRefused {
                replyRefused = true
                onStateChange(.down, rejection.description)
            }
            return nil
        }
    }

    /// The verdict from a checked reply (`QuotaReplyDecoder`), with the same Swift code as the memory limiter.
    static func verdict(for checks: [QuotaCheck], reply: RESPValue) -> Result<QuotaVerdict, QuotaReplyDecoder.Rejection> {
        QuotaReplyDecoder.decode(reply, limits: checks.lazy.map(\.policy.limit)).map { decoded in
            QuotaVerdict.evaluate(checks, storedTATs: { decoded.stored[$0] }, now: decoded.now, commit: { _, _ in })
        }
    }
}
