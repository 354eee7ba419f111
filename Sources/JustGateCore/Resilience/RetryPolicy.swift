/// When an upstream call may be tried again, and how long to wait first.
///
/// Only reads (`OperationSpec.retrySafe`) are retried after the request may have reached the upstream;
/// every other operation changes something upstream, so it is retried only when the
/// request provably never left (`AttemptOutcome.notSent`). Waits are exponential with full
/// jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): a random delay in
/// `0...min(cap, base · 2^(n-1))`, so gateways that failed together do not retry together.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included; 1 turns retries off.
    public var maxAttempts: Int
    /// The ceiling of the first wait.
    public var baseDelayMs: Int
    /// No wait is longer than this.
    public var maxDelayMs: Int

    /// Upstream statuses that say "not now" rather than "no": a retry may get a real answer.
    public static let retryableStatuses: Set<Int> = [502, 503, 504]

    /// The defaults are the documented ones (`upstream.retries`).
    public init(maxAttempts: Int = 3, baseDelayMs: Int = 50, maxDelayMs: Int = 1000) {
        self.maxAttempts = maxAttempts
        self.baseDelayMs = baseDelayMs
        self.maxDelayMs = maxDelayMs
    }

    /// Whether attempt number `attemptsMade + 1` may follow an attempt that ended with `outcome`.
    /// Budget and deadline are checked by the caller; this is only the safety rule.
    public func mayRetry(after outcome: AttemptOutcome, idempotent: Bool, attemptsMade: Int) -> Bool {
        guard attemptsMade < maxAttempts else { return false }
        switch outcome {
        case .notSent:
            return true
        case .timedOut, .failedAfterSending:
            return idempotent
        case .answered(let status):
            return idempotent && RetryPolicy.retryableStatuses.contains(status)
        case .unretryable:
            return false
        }
    }

    /// The wait before the retry that follows attempt `attemptsMade` (1-based), drawn from
    /// `random`, which tests replace with a fixed source.
    public func backoffMs<Random: RandomNumberGenerator>(afterAttempt attemptsMade: Int, using random: inout Random) -> Int {
        Int.random(in: 0...backoffCeilingMs(afterAttempt: attemptsMade), using: &random)
    }

    /// The largest wait after attempt `attemptsMade`: `min(maxDelayMs, baseDelayMs · 2^(attemptsMade-1))`.
    public func backoffCeilingMs(afterAttempt attemptsMade: Int) -> Int {
        let doublings = min(max(attemptsMade - 1, 0), 30)
        let (grown, overflow) = max(baseDelayMs, 0).multipliedReportingOverflow(by: 1 << doublings)
        return overflow ? max(maxDelayMs, 0) : min(grown, max(maxDelayMs, 0))
    }
}
