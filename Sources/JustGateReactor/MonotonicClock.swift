#if canImport(Glibc)
import Glibc
#endif

/// Milliseconds and nanoseconds from `CLOCK_MONOTONIC`: timeouts must not jump with the wall clock.
public enum MonotonicClock {
    public static func nanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    public static func milliseconds() -> UInt64 { nanoseconds() / 1_000_000 }
}
