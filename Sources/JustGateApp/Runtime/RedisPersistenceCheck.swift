import JustGateCore
import JustGateRedis
import Logging
import Synchronization

/// Asks a Redis once, when the gateway's first connection to it is ready, whether it writes what it holds to
/// disk. A Redis with neither AOF nor RDB snapshots loses every deferred call (and remembered idempotent answer)
/// when it restarts, and nothing in the gateway would show it until that happened, so it is said once at start.
///
/// `CONFIG GET` is often refused (an ACL without `@admin`/`@dangerous`, or a managed Redis that renames it):
/// then `INFO persistence` can still tell that AOF is on; if neither answers, the log says the check could not
/// be made. Never fatal: Redis's persistence is the operator's choice (README, "Durability with Redis").
final class RedisPersistenceCheck: Sendable {
    let endpoint: RedisEndpoint
    private let logger: Logger
    /// What the gateway keeps in this Redis, for the log line ("deferred calls (outbox)"), and whether losing it
    /// loses calls a site was told were kept (the outbox: a warning) or only shortens what is remembered
    /// (idempotent answers: a notice, since the reference deployment's limiter Redis persists nothing on purpose).
    private let holds: Mutex<(what: [String], keepsCalls: Bool)>
    /// Whether the questions were sent (reset when they got no answer, so the next ready connection asks again).
    private let asked = Mutex(false)

    /// What the answers say.
    enum Verdict: Equatable {
        /// AOF, or RDB snapshots (save points), are on: which.
        case persists(String)
        /// Neither: a restart loses everything.
        case persistsNothing
        /// Refused or unreadable: why.
        case unknown(String)
    }

    init(endpoint: RedisEndpoint, holds: String, keepsCalls: Bool, logger: Logger) {
        self.endpoint = endpoint
        self.holds = Mutex(([holds], keepsCalls))
        self.logger = logger
    }

    /// Another use of the same Redis server (persistence is the server's, whatever the database): one check
    /// and one log line name both.
    func alsoHolds(_ what: String, keepsCalls: Bool) {
        holds.withLock {
            $0.what.append(what)
            $0.keepsCalls = $0.keepsCalls || keepsCalls
        }
    }

    /// Whether `other` is the same Redis server (same host and port, or socket).
    func isSameServer(as other: RedisEndpoint) -> Bool {
        endpoint.location == other.location
    }

    /// Sends the questions on `connection` (just ready, on its loop) the first time any connection to this
    /// Redis is ready; later calls do nothing.
    func ask(on connection: RedisConnection) {
        let first = asked.withLock { asked in
            defer { asked = true }
            return !asked
        }
        guard first else { return }
        connection.send(["CONFIG", "GET", "appendonly"]) { [self] appendonly in
            guard case .success(let appendonly) = appendonly else { return gotNoAnswer() }
            if appendonly.errorCode != nil {
                // Refused: INFO may still be allowed, and tells whether AOF is on (not whether snapshots are).
                return connection.send(["INFO", "persistence"]) { [self] info in
                    guard case .success(let info) = info else { return gotNoAnswer() }
                    report(Self.verdict(configRefused: appendonly, info: info))
                }
            }
            if Self.configValue(appendonly) == "yes" {
                // AOF is on: how often it is synced decides what a crash loses (README, "Durability with Redis").
                return connection.send(["CONFIG", "GET", "appendfsync"]) { [self] fsync in
                    let policy = (try? fsync.get()).flatMap(Self.configValue)
                    report(.persists("appendonly yes" + (policy.map { ", appendfsync \($0)" } ?? "")), appendfsync: policy)
                }
            }
            connection.send(["CONFIG", "GET", "save"]) { [self] save in
                guard case .success(let save) = save else { return gotNoAnswer() }
                report(Self.verdict(appendonly: appendonly, save: save))
            }
        }
    }

    /// From `CONFIG GET appendonly` and `CONFIG GET save` (each `[name, value]`).
    static func verdict(appendonly: RESPValue, save: RESPValue) -> Verdict {
        guard let aof = configValue(appendonly) else { return .unknown("CONFIG GET appendonly answered \(shown(appendonly))") }
        if aof == "yes" { return .persists("appendonly yes") }
        guard let points = configValue(save) else { return .unknown("CONFIG GET save answered \(shown(save))") }
        return points.allSatisfy(\.isWhitespace) ? .persistsNothing : .persists("save \(points)")
    }

    /// From `INFO persistence`, after `CONFIG GET` was refused (`refusal`): AOF on is enough; otherwise the
    /// snapshots cannot be known.
    static func verdict(configRefused refusal: RESPValue, info: RESPValue) -> Verdict {
        if case .bulk(let bytes?) = info,
           String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).contains("aof_enabled:1") {
            return .persists("aof_enabled:1")
        }
        let infoText = if case .bulk = info { "AOF is off" } else { "INFO persistence answered \(shown(info))" }
        return .unknown("CONFIG GET answered \(shown(refusal)); \(infoText), and whether snapshots are on cannot be read")
    }

    private static func configValue(_ reply: RESPValue) -> String? {
        guard case .array(let items?) = reply, items.count >= 2, case .bulk(let value?) = items[1] else { return nil }
        return String(decoding: value, as: UTF8.self)
    }

    private static func shown(_ reply: RESPValue) -> String {
        if case .error(let text) = reply { return String(text.prefix(120)) }
        return "something else than expected"
    }

    private func gotNoAnswer() {
        // Down or too slow: the next connection that comes up asks again.
        asked.withLock { $0 = false }
    }

    /// `appendfsync`: the AOF's sync policy when AOF is on and `CONFIG GET appendfsync` answered.
    private func report(_ verdict: Verdict, appendfsync: String? = nil) {
        let (what, keepsCalls) = holds.withLock { ($0.what.joined(separator: " and "), $0.keepsCalls) }
        switch verdict {
        case .persists(let how):
            // Said at info level, once: a start-up line an operator (and a test) can look for.
            logger.info("Redis persists the \(what) it holds", metadata: ["redis": .string(endpoint.description),
                                                                        "persistence": .string(how)])
            if keepsCalls, let appendfsync, appendfsync != "always" {
                logger.notice("""
                    Redis syncs its AOF with appendfsync \(appendfsync): a Redis crash or power cut can lose up to about a \
                    second of calls already answered 202; appendfsync always keeps every one (README, Durability with Redis)
                    """, metadata: ["redis": .string(endpoint.description)])
            }
        case .persistsNothing:
            logger.log(level: keepsCalls ? .warning : .notice, """
                Redis persists nothing (appendonly no and no save points): the \(what) it holds are lost when Redis \
                restarts; run it with appendonly yes (appendfsync always for the outbox) or at least save points
                """, metadata: ["redis": .string(endpoint.description)])
        case .unknown(let why):
            logger.notice("""
                whether Redis persists the \(what) it holds could not be checked; make sure it runs with appendonly \
                yes (or save points), or a Redis restart loses them
                """, metadata: ["redis": .string(endpoint.description), "reason": .string(why)])
        }
    }
}
