#if canImport(Glibc)
import Glibc
#endif

/// A moment on `CLOCK_MONOTONIC`, in nanoseconds from an unspecified origin (the host's boot): the one time
/// type of the event loops and of everything that times requests, so no timeout jumps with the wall clock and
/// no caller keeps a milliseconds helper of its own. Durations are spelt in their unit where they are used
/// (`advanced(byMilliseconds:)`, `nanoseconds(since:)`, `milliseconds(until:)`).
///
/// The raw value is unsigned because a monotonic reading never precedes its origin, and it is what request
/// records carry (`ServerRequest.receivedAtNanos`, `RequestRecord.receivedAtNanos`: JustGateCore is pure and
/// cannot name this type). The pure core's own clocks (GCRA, the circuit breaker, the idempotency table) count
/// `Int64` microseconds or milliseconds; `microseconds` and `milliseconds` are the one place those are derived.
public struct MonotonicInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let nanoseconds: UInt64

    public init(nanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
    }

    /// The system's monotonic time now. An event loop reads it through its `MonotonicClock`, which tests replace.
    public static func now() -> MonotonicInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MonotonicInstant(nanoseconds: UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec))
    }

    /// Whole milliseconds from the origin, for the pure core's millisecond clocks.
    public var milliseconds: Int64 { Int64(nanoseconds / 1_000_000) }

    /// Whole microseconds from the origin, for the pure core's microsecond clocks (GCRA).
    public var microseconds: Int64 { Int64(nanoseconds / 1_000) }

    /// This instant `ms` milliseconds later; a negative delay counts as none (a deadline is never in the past
    /// of the moment it was set from).
    public func advanced(byMilliseconds ms: Int) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds &+ UInt64(max(0, ms)) &* 1_000_000)
    }

    /// Nanoseconds from `earlier` to this instant; 0 when `earlier` is not earlier.
    public func nanoseconds(since earlier: MonotonicInstant) -> UInt64 {
        nanoseconds > earlier.nanoseconds ? nanoseconds - earlier.nanoseconds : 0
    }

    /// Milliseconds from this instant to `later`, rounded up so a wait that long never wakes early; 0 when
    /// `later` has come.
    public func milliseconds(until later: MonotonicInstant) -> Int64 {
        let remaining = later.nanoseconds(since: self)
        return Int64((remaining + 999_999) / 1_000_000)
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public var description: String { "\(nanoseconds)ns" }
}
