/// How one delivery attempt ended, in the terms the verdict needs.
public enum DeliveryAttempt: Sendable, Equatable {
    /// The upstream answered with `status`.
    case answered(status: Int)
    /// No answer: connection refused or lost, a timeout, a broken answer. `reason` is the failure's word.
    case failed(reason: String)
    /// No call was made (the circuit is open, `max_in_flight` is reached): not an attempt, try again after
    /// `retryAfterMs` (nil: the first configured wait).
    case held(reason: String, retryAfterMs: Int?)
}

/// What happens to an entry after an attempt.
public enum DeliveryVerdict: Sendable, Equatable {
    case delivered
    /// No more attempts (until an operator retries it).
    case dead
    /// Try again from this wall-clock millisecond.
    case retry(atMs: Int64)
}

/// The delivery rule of issue 25: 2xx delivered; a 4xx other than 408 and 429 dead at once (the upstream said
/// no, and will say it again); 5xx, 408, 429 and every failure without an answer retried after
/// `retry_ms[attempts - 1]` (the last repeats) with jitter, until `max_age_s` after the call was deferred.
///
/// Jitter (±10 %) keeps entries deferred together in one outage from all coming due in the same millisecond
/// once it ends; the attempt at the age limit itself is still made, so an entry is never declared dead
/// without a last try.
public struct DeliveryPolicy: Sendable, Equatable {
    public var retryMs: [Int]
    public var maxAgeMs: Int64
    /// The jitter as a share of the wait, in percent, each way.
    public var jitterPercent: Int

    public init(retryMs: [Int], maxAgeMs: Int64, jitterPercent: Int = 10) {
        self.retryMs = retryMs.isEmpty ? [5000] : retryMs
        self.maxAgeMs = maxAgeMs
        self.jitterPercent = jitterPercent
    }

    /// The policy an `outbox:` section describes.
    public init(_ config: OutboxConfig) {
        self.init(retryMs: config.retryMs, maxAgeMs: Int64(config.maxAgeSeconds) * 1000)
    }

    /// Upstream statuses that mean "not now": the same call may succeed later.
    public static func isRetryable(status: Int) -> Bool {
        status >= 500 || status == 408 || status == 429
    }

    /// The verdict after `attempt`, the entry having made `attemptsMade` attempts (this one included).
    public func verdict<Random: RandomNumberGenerator>(
        after attempt: DeliveryAttempt, attemptsMade: Int, createdAtMs: Int64, nowMs: Int64, using random: inout Random
    ) -> DeliveryVerdict {
        let wait: Int
        switch attempt {
        case .answered(let status) where (200...299).contains(status):
            return .delivered
        case .answered(let status) where !DeliveryPolicy.isRetryable(status: status):
            return .dead
        case .answered, .failed:
            wait = retryMs[min(max(attemptsMade, 1), retryMs.count) - 1]
        case .held(_, let retryAfterMs):
            // No call was made: this is not the attempt at the age limit, which is still owed (see above).
            return .retry(atMs: nowMs + Int64(jittered(nextHoldMs(retryAfterMs), using: &random)))
        }
        let expiry = createdAtMs + maxAgeMs
        guard nowMs < expiry else { return .dead }
        return .retry(atMs: min(nowMs + Int64(jittered(wait, using: &random)), expiry))
    }

    /// How long a held entry waits: what the upstream's guard said, else the first configured wait.
    public func nextHoldMs(_ retryAfterMs: Int?) -> Int {
        max(retryAfterMs ?? retryMs[0], 1)
    }

    /// `wait` moved by up to `jitterPercent` either way, never below 1 ms.
    func jittered<Random: RandomNumberGenerator>(_ wait: Int, using random: inout Random) -> Int {
        let spread = wait / 100 * jitterPercent + (wait % 100) * jitterPercent / 100
        guard spread > 0 else { return max(wait, 1) }
        return max(1, wait + Int.random(in: -spread...spread, using: &random))
    }
}
