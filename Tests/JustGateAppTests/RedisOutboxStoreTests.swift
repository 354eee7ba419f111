@testable import JustGateApp
import JustGateCore
import JustGateReactor
import Logging
import Testing

/// `RedisOutboxStore` on a loop of its own against a real `redis-server`, below the engine: what a claim
/// tells the engine about when to look next.
@Suite(.serialized)
struct RedisOutboxStoreTests {
    /// The claim answers the distance to the next due key (here the end of a 4 s lease), which the store
    /// adds to its own clock; an absolute Redis time read as a distance put it some 56 years ahead.
    @Test func theNextDueTimeIsADistanceFromNow() throws {
        let redis = try RedisServer()
        var config = OutboxConfig()
        config.backend = .redis
        config.redisURL = redis.url
        config.leaseMs = 4000
        let harness = try RedisConnectionTests.Harness()
        let store = RedisOutboxStore(loop: harness.loop,
                                     shared: try RedisOutboxShared(config, logger: Logger(label: "redis-outbox-store-test")))
        let call = DeferredCall(siteID: "horoscope-daily", operationID: "subscribe.email", juid: String(repeating: "a", count: 32),
                                method: "POST", target: "/api/user/v1/subscription/subscribe/email", body: Array("juid=a".utf8),
                                contentType: nil, requestID: "req-1")
        var kept = false
        store.keep(call) { kept = (try? $0.get()) != nil }
        harness.run(atMostMs: 3000) { kept }
        #expect(kept)
        var claims: [[OutboxEntry]] = []
        store.claim(limit: 4) { claims.append($0) }
        harness.run(atMostMs: 3000) { claims.count == 1 }
        #expect(claims.first?.count == 1)
        // Nothing else is due: the answer is how long until the lease just taken ends.
        store.claim(limit: 4) { claims.append($0) }
        harness.run(atMostMs: 3000) { claims.count == 2 }
        let due = try #require(store.nextDueAtMs())
        let distance = due - OutboxFileStore.wallClockMs()
        #expect(distance > 3000 && distance <= 4000, "next due \(distance) ms from now")
    }
}
