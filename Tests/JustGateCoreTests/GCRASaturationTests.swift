import PropertyBased
import Testing

@testable import JustGateCore

/// `decide` and `standing` are fed instants that may come from a hostile Redis: whatever the Int64 values,
/// they never trap and their answers stay in range. Before saturating arithmetic, `now = Int64.max` or a
/// stored 9.2e18 against a negative `now` killed the process.
@Suite struct GCRASaturationTests {
    static let extremes: [Int64] = [
        .min, .min + 1, -(Int64.max), -9_200_000_000_000_000_000, -1_000_000, -1, 0, 1, 999_999, 1_000_000,
        1_700_000_000_000_000, 9_200_000_000_000_000_000, .max - 1, .max,
    ]
    static let limits = [
        GCRALimit(count: 3, periodMicros: 3_600_000_000, burst: 3),
        GCRALimit(count: 1000, periodMicros: 1_000_000, burst: 1),
        GCRALimit(count: 1, periodMicros: 86_400_000_000, burst: 1_000_000),
        GCRALimit(count: 1, periodMicros: Int64.max, burst: Int.max),
        GCRALimit(count: Int.max, periodMicros: 0, burst: 1),
    ]

    /// The invariants every answer keeps, whatever the input.
    static func check(_ limit: GCRALimit, stored: Int64?, now: Int64) {
        let decision = limit.decide(storedTAT: stored, now: now)
        #expect(decision.retryAfterMicros >= 0, "stored \(String(describing: stored)) now \(now)")
        #expect(decision.admitted == (decision.retryAfterMicros == 0), "stored \(String(describing: stored)) now \(now)")
        let standing = limit.standing(tat: decision.tat, now: now)
        #expect((0...limit.burst).contains(standing.remaining))
        #expect(standing.nextQuotaMicros >= 0)
        #expect(decision.retryAfterMicros.wholeSecondsRoundedUp >= 0)
        #expect(standing.nextQuotaMicros.wholeSecondsRoundedUp >= 0)
        _ = limit.standing(tat: stored ?? now, now: now)
    }

    @Test func everyPairOfExtremesIsAnsweredWithoutTrapping() {
        for limit in Self.limits {
            for now in Self.extremes {
                Self.check(limit, stored: nil, now: now)
                for stored in Self.extremes { Self.check(limit, stored: stored, now: now) }
            }
        }
    }

    @Test func arbitraryInstantsAreAnsweredWithoutTrapping() async {
        let instant = Gen<Int64>.value(in: Int64.min...Int64.max)
        await propertyCheck(count: 2000, input: instant, instant, Gen.int(in: 0...(Self.limits.count - 1))) { stored, now, index in
            Self.check(Self.limits[index], stored: stored, now: now)
        }
    }

    @Test func theRedisCrashReplyIsRefusedNotTrapped() {
        let limit = GCRALimit(count: 2, periodMicros: 3_600_000_000, burst: 2)
        // now = Int64.max: the stored-or-now instant is now itself; admitting it used to add an interval past max.
        #expect(limit.decide(storedTAT: nil, now: .max).tat == .max)
        // A far instant against a negative now: refused, retry saturates rather than wrapping.
        let refused = limit.decide(storedTAT: 9_200_000_000_000_000_000, now: -(Int64.max))
        #expect(!refused.admitted)
        #expect(refused.retryAfterMicros == Int64.max - limit.tolerance)
        #expect(Int64.max.wholeSecondsRoundedUp == Int64.max / 1_000_000 + 1)
    }
}
