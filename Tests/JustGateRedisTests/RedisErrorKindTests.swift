import Testing
import JustGateCore
import JustGateRedis

/// An error reply is reported by its code and what to do, never by its text (a Redis the gateway does not
/// control could put anything there, an address or a key among it).
@Suite struct RedisErrorKindTests {
    @Test(arguments: [
        ("READONLY You can't write against a read only replica.", RedisErrorKind.readOnlyReplica, "primary"),
        ("MOVED 3999 10.0.0.2:6379", .cluster, "Cluster"),
        ("ASK 3999 10.0.0.2:6379", .cluster, "Cluster"),
        ("CROSSSLOT Keys in request don't hash to the same slot", .cluster, "standalone"),
        ("CLUSTERDOWN The cluster is down", .cluster, "Cluster"),
        ("OOM command not allowed when used memory > 'maxmemory'.", .outOfMemory, "maxmemory"),
        ("NOPERM User justgate has no permissions to run the 'evalsha' command", .notPermitted, "EVALSHA"),
        ("NOAUTH Authentication required.", .notPermitted, "ACL"),
        ("BUSY Redis is busy running a script.", .busy, "keeps trying"),
        ("LOADING Redis is loading the dataset in memory", .busy, "loading"),
        ("ERR Error running script (call to f_1): @user_script:1: -OOM command not allowed", .outOfMemory, "maxmemory"),
        ("ERR Error running script (call to f_1): @user_script:1: -READONLY You can't write", .readOnlyReplica, "primary"),
        ("ERR boom 10.0.0.9", .other, "Redis's own log"),
        ("ERR", .other, "Redis's own log"),
    ])
    func aReplyIsClassifiedByItsCodeAlone(text: String, kind: RedisErrorKind, advice: String) {
        // Whatever follows the code never reaches the description.
        let classified = RedisErrorKind(errorText: text + " marker-Zq9")
        #expect(classified == kind)
        #expect(classified.description.contains(advice))
        #expect(!classified.description.contains("Zq9") && !classified.description.contains("10.0.0"))
    }

    @Test func theDecodersSayWhatToDo() {
        let readOnly = RESPValue.error("READONLY You can't write against a read only replica.")
        #expect(QuotaReplyDecoder.decode(readOnly, limits: [GCRALimit(count: 1, periodMicros: 1_000_000, burst: 1)])
            == .failure(.redisError(.readOnlyReplica)))
        #expect(IdempotencyReplyDecoder.decodeCompletion(readOnly) == .failure(.redisError(.readOnlyReplica)))
        #expect(IdempotencyReplyDecoder.Rejection.redisError(.readOnlyReplica).description
            == "Redis answered the idempotency script with an error: it is a read-only replica: point redis_url at the primary (after a failover, at the new one)")
    }
}
