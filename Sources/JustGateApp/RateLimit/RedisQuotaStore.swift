import JustGateCore
import JustGateRedis
import JustGateServer

/// The Redis limiter of one event loop: one pipelined connection, one `EVALSHA` per request
/// carrying all of its policies. The script is loaded when the connection is set up; if Redis
/// forgets it (`SCRIPT FLUSH`, a failover) the call is repeated once with `EVAL`.
final class RedisQuotaStore: SharedQuotaStore {
    private let connection: RedisConnection
    private var scriptDigest: String?

    init(loop: EventLoop, target: RedisTarget, endpoint: RedisEndpoint, timeoutMs: Int,
         onStateChange: @escaping (RedisConnection.State, String?) -> Void) {
        var handshake: [[String]] = []
        if let password = endpoint.password {
            handshake.append(endpoint.username.map { ["AUTH", $0, password.reveal()] } ?? ["AUTH", password.reveal()])
        }
        if endpoint.database != 0 { handshake.append(["SELECT", String(endpoint.database)]) }
        handshake.append(["SCRIPT", "LOAD", RedisQuotaScript.source])
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
        for check in checks { arguments.append(check.redisKey) }
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
                self.connection.send(arguments) { retry in
                    completion(RedisQuotaStore.verdict(for: checks, reply: retry))
                }
            default:
                completion(RedisQuotaStore.verdict(for: checks, reply: result))
            }
        }
    }

    static func verdict(for checks: [QuotaCheck], reply: Result<RESPValue, RedisFailure>) -> QuotaVerdict? {
        guard case .success(.array(let items?)) = reply, items.count == checks.count + 1,
              case .integer(let now) = items[0]
        else { return nil }
        var stored: [Int64?] = []
        stored.reserveCapacity(checks.count)
        for item in items.dropFirst() {
            guard case .integer(let value) = item else { return nil }
            stored.append(value < 0 ? nil : value)
        }
        return QuotaVerdict.evaluate(checks, storedTATs: { stored[$0] }, now: now, commit: { _, _ in })
    }
}
