import Foundation
@testable import JustGateCore
import Testing

@testable import JustGateApp
import JustGateReactor

/// The memory limiter without sockets: exact under two threads, all-or-nothing across policies,
/// and bounded in keys.
@Suite struct MemoryQuotaStoreTests {
    static func policy(_ name: String, scope: RateLimitScope = .ip, count: Int, period: RateLimitRate.Period = .hour,
                       burst: Int? = nil) -> CompiledPolicy {
        CompiledPolicy(RateLimitPolicy(name: name, scope: scope, rate: RateLimitRate(count: count, period: period), burst: burst),
                       siteID: "site")
    }

    static func fields(ip: String) -> ValidatedRequest {
        ValidatedRequest(pathParameter: nil, fields: [NormalisedField(name: "ip", value: ip)])
    }

    @Test func twoThreadsOnOneKeyAdmitExactlyTheBurst() async throws {
        let store = MemoryQuotaStore(maxKeys: 10_000)
        let policy = Self.policy("hot", count: 1000, period: .day, burst: 1000)
        let check = try #require(policy.check(operationID: "profile.create", fields: Self.fields(ip: "1.2.3.4")))
        let now = MonotonicInstant.now().microseconds
        // 2 threads × 5,000 attempts within one instant-ish: exactly the burst passes.
        let admitted = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    var passed = 0
                    for _ in 0..<5000 where store.admit([check], now: now).admitted { passed += 1 }
                    return passed
                }
            }
            return await group.reduce(0, +)
        }
        #expect(admitted == 1000)
    }

    @Test func aRequestRefusedByOnePolicyCostsTheOthersNothing() throws {
        let store = MemoryQuotaStore(maxKeys: 10_000)
        let wide = Self.policy("wide", scope: .site, count: 10)
        let narrow = Self.policy("narrow", count: 1)
        let fields = Self.fields(ip: "1.2.3.4")
        let checks = [try #require(wide.check(operationID: "x", fields: fields)),
                      try #require(narrow.check(operationID: "x", fields: fields))]
        #expect(store.admit(checks, now: 0).admitted)
        for _ in 0..<20 {
            let verdict = store.admit(checks, now: 0)
            #expect(!verdict.admitted)
            #expect(verdict.violated.map(\.name) == ["narrow"])
        }
        // The wide policy was charged once: nine more pass for other addresses.
        var passed = 0
        for index in 0..<20 {
            let other = [try #require(wide.check(operationID: "x", fields: fields)),
                         try #require(narrow.check(operationID: "x", fields: Self.fields(ip: "10.0.0.\(index)")))]
            if store.admit(other, now: 0).admitted { passed += 1 }
        }
        #expect(passed == 9)
    }

    @Test func aMillionDistinctKeysStayWithinMaxKeys() throws {
        let store = MemoryQuotaStore(maxKeys: 64_000)
        let policy = Self.policy("per-ip", count: 3)
        for index in 0..<1_000_000 {
            let ip = "\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255).1"
            let check = try #require(policy.check(operationID: "x", fields: Self.fields(ip: ip)))
            _ = store.admit([check], now: Int64(index))
        }
        #expect(store.keyCount <= 64_000)
        #expect(store.keyCount > 32_000)
    }

    @Test func recoveredKeysAreSweptAway() throws {
        let store = MemoryQuotaStore(maxKeys: 10_000)
        let policy = Self.policy("per-ip", count: 3600, period: .hour)
        for index in 0..<500 {
            _ = store.admit([try #require(policy.check(operationID: "x", fields: Self.fields(ip: "10.0.\(index / 256).\(index % 256)")))],
                            now: 0)
        }
        #expect(store.keyCount == 500)
        // One interval (1 s) later every key has recovered; sweeping all stripes drops them.
        for stripe in 0..<MemoryQuotaStore.stripeCount { store.sweep(stripe: stripe, now: 2_000_000) }
        #expect(store.keyCount == 0)
    }

    @Test func aRequestWithoutTheFieldIsNotCounted() {
        let policy = Self.policy("per-ip", count: 1)
        #expect(policy.check(operationID: "x", fields: ValidatedRequest(pathParameter: nil, fields: [])) == nil)
    }
}
