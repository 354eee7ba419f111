import Testing

@testable import JustGateCore

/// GCRA on a driven clock: every instant is given, nothing sleeps.
@Suite struct GCRATests {
    static let second: Int64 = 1_000_000
    static let hour: Int64 = 3600 * second

    /// Runs `count` requests at `now` against one key, storing instants as the limiter would.
    func burst(_ limit: GCRALimit, tat: inout Int64?, now: Int64, count: Int) -> [Bool] {
        (0..<count).map { _ in
            let decision = limit.decide(storedTAT: tat, now: now)
            if decision.admitted { tat = decision.tat }
            return decision.admitted
        }
    }

    @Test func freshKeyAdmitsTheBurstAtOnceAndNoMore() {
        let limit = GCRALimit(count: 3, periodMicros: Self.hour, burst: 3)
        var tat: Int64?
        #expect(burst(limit, tat: &tat, now: 0, count: 5) == [true, true, true, false, false])
    }

    @Test func steadyRateAfterTheBurst() {
        // 10/s, burst 2: after the burst, exactly one request every 100 ms.
        let limit = GCRALimit(count: 10, periodMicros: Self.second, burst: 2)
        var tat: Int64?
        #expect(burst(limit, tat: &tat, now: 0, count: 3) == [true, true, false])
        #expect(burst(limit, tat: &tat, now: 99_999, count: 1) == [false])
        #expect(burst(limit, tat: &tat, now: 100_000, count: 2) == [true, false])
        #expect(burst(limit, tat: &tat, now: 200_000, count: 2) == [true, false])
    }

    @Test func fullRecoveryAfterIdleTime() {
        let limit = GCRALimit(count: 3, periodMicros: Self.hour, burst: 3)
        var tat: Int64?
        _ = burst(limit, tat: &tat, now: 0, count: 3)
        // One emission interval (20 min) frees one request; a whole hour frees the burst.
        #expect(burst(limit, tat: &tat, now: Self.hour / 3 - 1, count: 1) == [false])
        #expect(burst(limit, tat: &tat, now: Self.hour / 3, count: 2) == [true, false])
        #expect(burst(limit, tat: &tat, now: 10 * Self.hour, count: 4) == [true, true, true, false])
    }

    @Test func retryAfterIsTheInstantARetryPasses() {
        let limit = GCRALimit(count: 3, periodMicros: Self.hour, burst: 3)
        var tat: Int64?
        _ = burst(limit, tat: &tat, now: 0, count: 3)
        let refused = limit.decide(storedTAT: tat, now: 5 * Self.second)
        #expect(!refused.admitted)
        #expect(refused.retryAfterMicros == 20 * 60 * Self.second - 5 * Self.second)
        // Retrying exactly then passes; a microsecond earlier does not.
        #expect(limit.decide(storedTAT: tat, now: 5 * Self.second + refused.retryAfterMicros).admitted)
        #expect(!limit.decide(storedTAT: tat, now: 5 * Self.second + refused.retryAfterMicros - 1).admitted)
    }

    @Test func retryAfterSecondsRoundUpSoAClientIsNeverEarly() {
        #expect(Int64(0).wholeSecondsRoundedUp == 0)
        #expect(Int64(1).wholeSecondsRoundedUp == 1)
        #expect(Int64(1_000_000).wholeSecondsRoundedUp == 1)
        #expect(Int64(1_000_001).wholeSecondsRoundedUp == 2)
    }

    @Test func standingGivesRemainingAndTimeToMoreQuota() {
        // The example: 3 per hour, bursts of 3; after 3 requests r=0 and t=1200.
        let limit = GCRALimit(count: 3, periodMicros: Self.hour, burst: 3)
        var tat: Int64?
        _ = burst(limit, tat: &tat, now: 0, count: 1)
        #expect(limit.standing(tat: tat ?? 0, now: 0) == GCRAStanding(remaining: 2, nextQuotaMicros: 1200 * Self.second))
        _ = burst(limit, tat: &tat, now: 0, count: 2)
        #expect(limit.standing(tat: tat ?? 0, now: 0) == GCRAStanding(remaining: 0, nextQuotaMicros: 1200 * Self.second))
        // 1,000 s later one request is 200 s from coming back.
        #expect(limit.standing(tat: tat ?? 0, now: 1000 * Self.second).nextQuotaMicros == 200 * Self.second)
        // Long idle: the whole burst is back and nothing more is coming.
        #expect(limit.standing(tat: tat ?? 0, now: 5 * Self.hour) == GCRAStanding(remaining: 3, nextQuotaMicros: 0))
    }

    @Test func burstDefaultsToTheCountAndWindowIsTheBurstsRecovery() {
        let policy = RateLimitPolicy(name: "p", scope: .site, rate: RateLimitRate(count: 50, period: .second))
        #expect(policy.burst == 50)
        #expect(policy.limit.interval == 20_000)
        #expect(GCRALimit(count: 50, periodMicros: Self.second, burst: 100).windowMicros == 2 * Self.second)
    }

    @Test func intervalRoundsUpSoTheRateIsNeverExceeded() {
        // 3 per second: 333,334 µs, not 333,333 (which would let a fourth in over a long run).
        #expect(GCRALimit(count: 3, periodMicros: Self.second, burst: 1).interval == 333_334)
    }

    @Test(arguments: ["a", "sms-per-number", "profiles.per_ip", "x1"])
    func theHandWrittenRateLimitItemIsWhatTheStructuredFieldsLibraryWrites(name: String) {
        for (remaining, micros) in [(0, Int64(0)), (2, 1_200_000_000), (999_999, 1), (7, 999_999), (1, 86_400_000_000)] {
            let standing = GCRAStanding(remaining: remaining, nextQuotaMicros: micros)
            #expect(RateLimitFields.standingItem(name: name, standing: standing)
                    == RateLimitFields.standingItemSerialised(name: name, standing: standing))
        }
    }

    @Test func policiesInWords() {
        let policy = RateLimitPolicy(name: "sms-per-number", scope: .number, operations: ["subscribe.sms"],
                                     rate: RateLimitRate(count: 3, period: .hour))
        #expect(policy.sentence == "sms-per-number: at most 3 subscribe.sms per phone number per hour, bursts of 3")
    }

    @Test(arguments: [("3/h", 3, RateLimitRate.Period.hour), ("50/s", 50, .second), ("10/m", 10, .minute), ("1000/d", 1000, .day)])
    func ratesParse(text: String, count: Int, period: RateLimitRate.Period) {
        #expect(RateLimitRate(parsing: text) == RateLimitRate(count: count, period: period))
    }

    @Test(arguments: ["5/x", "/s", "5", "5/", "-1/s", "5 /s", "1/ms", "a/s", "9999999999/s"])
    func malformedRatesDoNotParse(text: String) {
        #expect(RateLimitRate(parsing: text) == nil)
    }
}
