/// Monotonic time for callers outside the server that measure against `ServerRequest.receivedAtNanos`.
public enum MonotonicNanos {
    public static func now() -> UInt64 { MonotonicClock.nanoseconds() }
}
