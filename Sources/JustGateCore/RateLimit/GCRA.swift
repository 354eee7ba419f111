/// The generic cell rate algorithm: one instant per key, the "theoretical arrival time" (TAT).
///
/// A policy of `count` requests per `period` with bursts of `burst` admits a request at `now` iff
/// `tat - now <= tolerance`, where `tat` is never earlier than `now`, and then moves `tat` on by one
/// `interval`. Unlike fixed windows there is no edge where two windows' worth pass back to back,
/// and unlike token buckets there is nothing to refill: an idle key's instant simply lies in the
/// past, which is the same as never having been seen. Time is in microseconds, passed in, so the
/// memory limiter, the Redis script and the tests all run the same two lines against any clock.
///
/// Every operation saturates (`SaturatingInt64.swift`): instants from Redis are untrusted, and no
/// pair of Int64 values, however absurd, may trap here and take the process down.
public struct GCRALimit: Sendable, Equatable, Hashable {
    /// Time one request "costs": `period / count`, rounded up so the stated rate is never exceeded.
    public let interval: Int64
    /// How far ahead of `now` the instant may run and still admit: `(burst - 1) × interval`.
    public let tolerance: Int64
    /// The most requests admitted at one instant by a fresh key.
    public let burst: Int

    public init(count: Int, periodMicros: Int64, burst: Int) {
        let count = Int64(max(1, count))
        // At least 1 µs: `standing` divides by it.
        interval = max(1, max(0, periodMicros).addingSaturated(count - 1) / count)
        self.burst = max(1, burst)
        tolerance = Int64(self.burst - 1).multipliedSaturated(by: interval)
    }

    /// The decision for one request at `now`, given the key's stored instant (nil when unknown).
    /// `tat` in the result is the instant to store when the request is admitted (all policies of a
    /// request must admit before any stores it).
    public func decide(storedTAT: Int64?, now: Int64) -> GCRADecision {
        let tat = max(storedTAT ?? now, now)
        // tat >= now, so `ahead` is >= 0; it saturates at Int64.max when the two are far apart.
        let ahead = tat.subtractingSaturated(now)
        if ahead > tolerance {
            return GCRADecision(admitted: false, tat: tat, retryAfterMicros: ahead - tolerance)
        }
        return GCRADecision(admitted: true, tat: tat.addingSaturated(interval), retryAfterMicros: 0)
    }

    /// Where a key stands at `now` once its instant is `tat` (after the decision was applied):
    /// how many more requests would pass right now, and when more quota becomes available.
    public func standing(tat: Int64, now: Int64) -> GCRAStanding {
        let used = max(0, tat.subtractingSaturated(now))
        let capacity = tolerance.addingSaturated(interval)
        let remaining = max(0, min(Int64(burst), capacity.subtractingSaturated(used) / max(1, interval)))
        // The next unit frees up when `used` has shrunk by enough to raise `remaining` by one.
        let nextMicros = remaining >= Int64(burst) ? 0
            : max(0, used.addingSaturated(remaining.multipliedSaturated(by: interval)).subtractingSaturated(tolerance))
        return GCRAStanding(remaining: Int(remaining), nextQuotaMicros: nextMicros)
    }

    /// The window the draft's `RateLimit-Policy` `w` names: the time a full burst takes to come back.
    public var windowMicros: Int64 { Int64(burst).multipliedSaturated(by: interval) }
}

/// One key's verdict for one request.
public struct GCRADecision: Sendable, Equatable {
    public var admitted: Bool
    /// The instant to store when admitted; the unchanged instant when not.
    public var tat: Int64
    /// For a rejection: how long until the same request would be admitted.
    public var retryAfterMicros: Int64
}

/// What a client is told about one policy (`RateLimit: "name";r=…;t=…`).
public struct GCRAStanding: Sendable, Equatable {
    /// Requests that would still pass right now.
    public var remaining: Int
    /// Microseconds until additional quota becomes available (0 when the burst is whole).
    public var nextQuotaMicros: Int64

    public init(remaining: Int, nextQuotaMicros: Int64) {
        self.remaining = remaining
        self.nextQuotaMicros = nextQuotaMicros
    }
}

extension Int64 {
    /// Microseconds as whole seconds, rounded up: a client told to wait this long is never early.
    /// Written without `self + 999_999`, which would overflow near Int64.max.
    public var wholeSecondsRoundedUp: Int64 {
        self <= 0 ? 0 : self / 1_000_000 + (self % 1_000_000 == 0 ? 0 : 1)
    }
}
