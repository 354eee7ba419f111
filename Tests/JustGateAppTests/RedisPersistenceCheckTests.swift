import Foundation
@testable import JustGateApp
import JustGateCore
import JustGateRedis
import Testing

/// At start with `outbox.backend: redis` and `idempotency.backend: redis`, the gateway asks Redis once whether
/// it persists anything (a Redis without AOF or snapshots loses every deferred call when it restarts): a real
/// `redis-server` with no persistence gets one warning naming both uses, one with `appendonly yes` none, and one
/// whose ACL refuses `CONFIG` and `INFO` a line saying it could not be checked.
@Suite(.serialized)
struct RedisPersistenceCheckTests {
    let base = RedisOutboxTests()
    var cli: CommandLineTests { base.cli }

    /// Idempotency on `redis`, and the outbox too unless `outbox` is false.
    func config(redis: String, outbox: Bool = true) throws -> String {
        try cli.writeTemporary("""
            listen: 127.0.0.1:0
            server: { workers: 2 }
            upstream: { url: "http://127.0.0.1:9", timeout_ms: 1000, connect_timeout_ms: 500 }
            \(outbox ? "outbox: { backend: redis, redis_url: \"\(redis)\", lease_ms: 2500 }" : "")
            idempotency: { backend: redis, redis_url: "\(redis)" }
            sites:
              - id: horoscope-daily
                key_sha256: "\(SiteKeys.sha256Hex(RedisOutboxTests.siteKey))"
                upstream_token: { env: JUSTGATE_REDIS_OUTBOX_TOKEN }
                \(outbox ? "defer: [subscribe.email]" : "")
            """)
    }

    /// Starts a gateway on `redis`, waits (up to 10 s) for the log line with `marker`, stops it; its whole log.
    func logUntil(_ marker: String, redis: String, outbox: Bool = true) throws -> String {
        var gateway = try cli.startServe(config: config(redis: redis, outbox: outbox), environment: base.environment)
        gateway.log += gateway.process.readStderr(until: marker, timeoutSeconds: 10)
        _ = gateway.stop()
        return gateway.log
    }

    @Test func aRedisWithoutPersistenceIsWarnedAboutOnce() throws {
        let redis = try RedisServer()
        let log = try logUntil("Redis persists nothing", redis: redis.url)
        let lines = log.split(separator: "\n").filter { $0.contains("Redis persists nothing") }
        // Each loop's outbox and idempotency connections, all on one server: one warning, naming both uses.
        #expect(lines.count == 1, "\(log)")
        #expect(lines.first?.contains("deferred calls (outbox) and remembered idempotent answers (idempotency)") == true
                && lines.first?.contains("appendonly yes") == true && lines.first?.contains("\"level\":\"warning\"") == true,
                "\(log)")
    }

    /// Idempotent answers alone (the reference deployment keeps its limiter's Redis without persistence on
    /// purpose, and it may hold them): said, as a notice, not a warning.
    @Test func aRedisHoldingOnlyIdempotentAnswersGetsANotice() throws {
        let redis = try RedisServer()
        let log = try logUntil("Redis persists nothing", redis: redis.url, outbox: false)
        let lines = log.split(separator: "\n").filter { $0.contains("Redis persists nothing") }
        #expect(lines.count == 1 && lines.first?.contains("\"level\":\"notice\"") == true
                && lines.first?.contains("remembered idempotent answers (idempotency) it holds") == true, "\(log)")
    }

    @Test func aRedisWithAppendOnlyIsNotWarnedAbout() throws {
        let redis = try RedisServer(persistence: ["--save", "", "--appendonly", "yes"])
        // The check's own answer is the event waited for: after it, no warning can come.
        let log = try logUntil("Redis persists the", redis: redis.url)
        #expect(log.contains("Redis persists the deferred calls") && log.contains("appendonly yes"), "\(log)")
        #expect(!log.contains("Redis persists nothing") && !log.contains("could not be checked"), "\(log)")
    }

    /// AOF synced once a second (Redis's default with AOF on) can lose the last second of kept calls: said
    /// once, as a notice; `appendfsync always` is not remarked on.
    @Test(arguments: [("everysec", true), ("always", false)])
    func anAOFNotSyncedOnEveryWriteIsNoted(policy: String, noted: Bool) throws {
        let redis = try RedisServer(persistence: ["--save", "", "--appendonly", "yes", "--appendfsync", policy])
        let log = try logUntil("Redis persists the", redis: redis.url)
        #expect(log.contains("appendonly yes, appendfsync \(policy)"), "\(log)")
        let notes = log.split(separator: "\n").filter { $0.contains("can lose up to about a") }
        #expect(notes.count == (noted ? 1 : 0), "\(log)")
        #expect(notes.allSatisfy { $0.contains("\"level\":\"notice\"") && $0.contains("appendfsync \(policy)") })
    }

    @Test func snapshotsAloneArePersistence() throws {
        let redis = try RedisServer(persistence: ["--save", "3600 1", "--appendonly", "no"])
        let log = try logUntil("Redis persists the", redis: redis.url)
        #expect(log.contains("save 3600 1") && !log.contains("Redis persists nothing"), "\(log)")
    }

    /// An ACL user without `CONFIG` and `INFO` (as many managed Redis give): the gateway says it could not check.
    @Test func aCheckTheACLRefusesIsSaidToBeUnchecked() throws {
        let redis = try RedisServer()
        #expect(try redis.command("ACL SETUSER gateway on >gateway-password ~* &* +@all -config -info") == "+OK")
        let url = "redis://gateway:gateway-password@127.0.0.1:\(redis.port)/0"
        let log = try logUntil("could not be checked", redis: url)
        let line = log.split(separator: "\n").first { $0.contains("could not be checked") }.map(String.init) ?? ""
        #expect(line.contains("NOPERM") && !line.contains("gateway-password"), "\(log)")
        #expect(!log.contains("Redis persists nothing"), "\(log)")
    }

    /// The answers read without a server: AOF, snapshots, neither, and replies that are not what was asked.
    @Test func whatTheAnswersSay() {
        func pair(_ name: String, _ value: String) -> RESPValue {
            .array([.bulk(Array(name.utf8)), .bulk(Array(value.utf8))])
        }
        typealias Check = RedisPersistenceCheck
        #expect(Check.verdict(appendonly: pair("appendonly", "yes"), save: pair("save", "")) == .persists("appendonly yes"))
        #expect(Check.verdict(appendonly: pair("appendonly", "no"), save: pair("save", "900 1")) == .persists("save 900 1"))
        #expect(Check.verdict(appendonly: pair("appendonly", "no"), save: pair("save", "")) == .persistsNothing)
        #expect(Check.verdict(appendonly: .array([]), save: pair("save", "")) != .persistsNothing)
        let refused = RESPValue.error("NOPERM this user has no permissions to run the 'config|get' command")
        #expect(Check.verdict(configRefused: refused, info: .bulk(Array("# Persistence\r\naof_enabled:1\r\n".utf8)))
                == .persists("aof_enabled:1"))
        guard case .unknown(let why) = Check.verdict(configRefused: refused, info: .bulk(Array("aof_enabled:0\r\n".utf8))) else {
            Issue.record("AOF off and CONFIG refused cannot tell about snapshots")
            return
        }
        #expect(why.contains("NOPERM") && why.contains("AOF is off"), "\(why)")
    }
}
