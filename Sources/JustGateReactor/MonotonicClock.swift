import Synchronization

/// Where an event loop reads the time: the system's monotonic clock in production, a `ManualClock` in tests,
/// so a test of a timeout moves time forward instead of sleeping through it (and stays exact on a loaded box).
public struct MonotonicClock: Sendable {
    private let read: @Sendable () -> MonotonicInstant

    public init(_ read: @escaping @Sendable () -> MonotonicInstant) {
        self.read = read
    }

    /// `CLOCK_MONOTONIC`.
    public static let system = MonotonicClock { MonotonicInstant.now() }

    public func now() -> MonotonicInstant { read() }
}

/// A clock that moves only when told (`advance`), for tests of timers and deadlines. It starts at an arbitrary
/// non-zero instant so code that treats 0 as "unset" behaves as it does on the system clock.
public final class ManualClock: Sendable {
    private let nanoseconds: Atomic<UInt64>

    public init(startingAt start: MonotonicInstant = MonotonicInstant(nanoseconds: 1_000_000_000_000)) {
        nanoseconds = Atomic(start.nanoseconds)
    }

    /// The clock to hand to an `EventLoop`.
    public var clock: MonotonicClock {
        MonotonicClock { [self] in self.now() }
    }

    public func now() -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds.load(ordering: .acquiring))
    }

    /// Moves the clock forward by `ms` milliseconds. The loop sees the new time on its next turn.
    public func advance(byMilliseconds ms: Int) {
        nanoseconds.add(UInt64(max(0, ms)) * 1_000_000, ordering: .releasing)
    }
}
