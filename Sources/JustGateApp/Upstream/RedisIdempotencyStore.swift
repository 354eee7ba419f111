import JustGateCore
import JustGateRedis
import JustGateReactor
import JustGateServer

/// The shared `Idempotency-Key` store of one event loop: its own pipelined Redis connection and one
/// `EVALSHA` of `RedisIdempotencyScript` per claim and per completion. The script is loaded when the
/// connection is set up; if Redis forgets it (`SCRIPT FLUSH`, a failover) the call is repeated once with
/// `EVAL`, as the limiter does.
///
/// Every reply goes through `IdempotencyReplyDecoder`; a refused one is treated as an outage (503, logged
/// once through `IdempotencyRedisHealth`) and never replayed to a site.
final class RedisIdempotencyStore: IdempotencyBackend {
    private let connection: RedisConnection
    private var scriptDigest: String?
    private let keys: IdempotencyRedisKey
    private let ttlMs: Int64
    private let health: IdempotencyRedisHealth
    /// Whether the connection is down (reported by it once per outage, and `.ready` when set up again).
    private var connectionDown = false
    /// Whether the last reply was refused: an outage until a good reply comes back.
    private var replyRefused = false

    init(loop: EventLoop, target: RedisTarget, endpoint: RedisEndpoint, timeoutMs: Int, ttlMs: Int64,
         keys: IdempotencyRedisKey, health: IdempotencyRedisHealth, persistence: RedisPersistenceCheck? = nil) {
        var handshake: [[String]] = []
        if let password = endpoint.password {
            handshake.append(endpoint.username.map { ["AUTH", $0, password.reveal()] } ?? ["AUTH", password.reveal()])
        }
        if endpoint.database != 0 { handshake.append(["SELECT", String(endpoint.database)]) }
        handshake.append(["SCRIPT", "LOAD", RedisIdempotencyScript.source])
        self.keys = keys
        self.ttlMs = ttlMs
        self.health = health
        var changed: ((RedisConnection.State, String?) -> Void)?
        connection = RedisConnection(loop: loop, target: target, handshake: handshake, timeoutMs: timeoutMs,
                                     onStateChange: { changed?($0, $1) })
        changed = { [weak self] state, reason in
            guard let self, state != .connecting else { return }
            self.update(connectionDown: state == .down, replyRefused: self.replyRefused, reason: reason)
            // Once per process (the first ready connection asks): off the connection's own callback.
            if state == .ready, let persistence {
                _ = loop.scheduleTimer(afterMs: 0) { [weak self] in
                    guard let self else { return }
                    persistence.ask(on: self.connection)
                }
            }
        }
        connection.connect()
    }

    /// The in-flight mark lasts the lease, but never longer than `ttl_s`, as in memory.
    func claim(_ claim: IdempotencyClaim, completion: @escaping (IdempotencyClaimAnswer) -> Void) {
        let arguments = [Array("claim".utf8), Array(SiteKeyHex.encode(claim.fingerprint).utf8), Array(claim.token.utf8),
                         Array(String(max(min(claim.leaseMs, ttlMs), 1)).utf8)]
        run(claim, arguments) { [weak self] reply in
            guard let self, let reply else { return completion(.unavailable) }
            switch self.checked(IdempotencyReplyDecoder.decodeClaim(reply)) {
            case .some(let decided): completion(.decided(decided))
            case .none: completion(.unavailable)
            }
        }
    }

    func complete(_ claim: IdempotencyClaim, answer: IdempotentAnswer?) {
        // An answer too large to keep is forgotten like a 5xx: a retry is forwarded again.
        let stored = answer.flatMap(IdempotentAnswerCodec.encode) ?? []
        let elapsedMs = Int64((MonotonicInstant.now().nanoseconds &- claim.claimedAtNanos) / 1_000_000)
        let arguments = [Array("complete".utf8), Array(SiteKeyHex.encode(claim.fingerprint).utf8), Array(claim.token.utf8),
                         stored, Array(String(max(ttlMs - elapsedMs, 1)).utf8)]
        // Nothing waits for it: if Redis fails here the in-flight mark ends with its lease.
        run(claim, arguments) { [weak self] reply in
            guard let self, let reply else { return }
            _ = self.checked(IdempotencyReplyDecoder.decodeCompletion(reply))
        }
    }

    /// `EVALSHA` of the script on the claim's key; `completion` gets the reply, or nil when Redis failed
    /// (the connection already reported it).
    private func run(_ claim: IdempotencyClaim, _ arguments: [[UInt8]], completion: @escaping (RESPValue?) -> Void) {
        if scriptDigest == nil, case .bulk(let bytes?) = connection.handshakeReplies.last {
            scriptDigest = String(decoding: bytes, as: UTF8.self)
        }
        let key = Array(keys.redisKey(siteID: claim.siteID, key: claim.key).utf8)
        var command = [Array("EVALSHA".utf8), Array((scriptDigest ?? "").utf8), Array("1".utf8), key] + arguments
        connection.send(bytes: command) { [weak self] result in
            guard let self else { return completion(nil) }
            switch result {
            case .success(let reply) where reply.errorCode == "NOSCRIPT":
                command[0] = Array("EVAL".utf8)
                command[1] = Array(RedisIdempotencyScript.source.utf8)
                self.connection.send(bytes: command) { retry in completion(try? retry.get()) }
            case .success(let reply):
                completion(reply)
            case .failure:
                completion(nil)
            }
        }
    }

    /// The decoded value, or nil for a refused reply, which counts as an outage of this loop (logged once
    /// by `IdempotencyRedisHealth`) until a good reply comes back; the connection itself stays up.
    private func checked<Value>(_ decoded: Result<Value, IdempotencyReplyDecoder.Rejection>) -> Value? {
        switch decoded {
        case .success(let value):
            update(connectionDown: connectionDown, replyRefused: false, reason: nil)
            return value
        case .failure(let rejection):
            update(connectionDown: connectionDown, replyRefused: true, reason: rejection.description)
            return nil
        }
    }

    /// Tells `health` when this loop goes down (connection down or reply refused) or comes back.
    private func update(connectionDown: Bool, replyRefused: Bool, reason: String?) {
        let wasDown = self.connectionDown || self.replyRefused
        self.connectionDown = connectionDown
        self.replyRefused = replyRefused
        let isDown = connectionDown || replyRefused
        if isDown != wasDown { health.report(ObjectIdentifier(self), down: isDown, reason: reason) }
    }
}
