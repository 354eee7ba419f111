/// Retries may be at most `percent` of the calls made over the last 10 seconds.
///
/// Retries multiply load exactly when the upstream is weakest; a budget keeps a struggling
/// upstream from seeing three times the traffic (the same idea as gRPC's retry throttling and
/// Finagle's `RetryBudget`). `minimumRetries` per window lets a quiet gateway still retry the odd
/// failure, where 20 % of two calls would allow none. Time is passed in, in milliseconds of a
/// monotonic clock, so tests drive it.
public struct RetryBudget: Sendable {
    /// Share of calls that may be retries, 0...100.
    public let percent: Int
    /// Retries allowed per window however few calls there were.
    public let minimumRetries: Int
    /// The window is this many one-second buckets.
    public static let windowSeconds = 10

    private var calls = [Int](repeating: 0, count: RetryBudget.windowSeconds)
    private var retries = [Int](repeating: 0, count: RetryBudget.windowSeconds)
    /// The second the newest bucket belongs to.
    private var currentSecond: Int64 = 0

    /// An empty window: until calls are recorded only `minimumRetries` are allowed.
    public init(percent: Int, minimumRetries: Int = 10) {
        self.percent = percent
        self.minimumRetries = minimumRetries
    }

    /// Counts a request's first attempt.
    public mutating func recordCall(nowMs: Int64) {
        recordCalls(1, nowMs: nowMs)
    }

    /// Counts `count` first attempts made during the second of `nowMs` (callers that count
    /// calls elsewhere and hand them over in batches).
    public mutating func recordCalls(_ count: Int, nowMs: Int64) {
        let second = nowMs / 1000
        let width = Int64(RetryBudget.windowSeconds)
        // Calls from a second that has already left the window no longer count.
        guard second > currentSecond - width else { return }
        let slot = advance(to: nowMs)
        calls[second <= currentSecond ? Int(second % width) : slot] += count
    }

    /// Takes one retry from the budget if there is one left; false means do not retry.
    public mutating func spendRetry(nowMs: Int64) -> Bool {
        let slot = advance(to: nowMs)
        let callsInWindow = calls.reduce(0, +)
        let retriesInWindow = retries.reduce(0, +)
        let allowed = max(minimumRetries, callsInWindow * percent / 100)
        guard retriesInWindow < allowed else { return false }
        retries[slot] += 1
        return true
    }

    /// Clears the buckets of seconds that have left the window; returns the bucket of `nowMs`.
    private mutating func advance(to nowMs: Int64) -> Int {
        let second = nowMs / 1000
        let width = Int64(RetryBudget.windowSeconds)
        if second > currentSecond {
            let passed = min(second - currentSecond, width)
            for step in 1...passed {
                let slot = Int((currentSecond + step) % width)
                calls[slot] = 0
                retries[slot] = 0
            }
            currentSecond = second
        }
        // A clock that went backwards (it cannot: it is monotonic) would count in the newest bucket.
        return Int(currentSecond % width)
    }
}
