/// How one upstream attempt ended, as the retry policy and the circuit breaker need to know it.
///
/// The one distinction that matters for safety is whether the request may have reached the
/// upstream: a `POST` that may have been received must never be sent again (it could create a
/// second profile), while one that provably never left (connection refused, DNS failure) can be.
public enum AttemptOutcome: Sendable, Equatable {
    /// The upstream answered with this HTTP status.
    case answered(status: Int)
    /// No connection was made (refused, name not resolved, TLS handshake failed, connect timed out):
    /// not one byte of the request reached the upstream.
    case notSent
    /// The deadline (or the per-attempt limit) passed after the request may have been sent.
    case timedOut
    /// The connection failed after the request was (or may have been) sent: reset, closed
    /// without an answer, a send or receive error.
    case failedAfterSending
    /// A failure that retrying cannot fix (an answer over the size limit, a local error).
    case unretryable

    /// Whether the attempt counts against the upstream's health: transport failures, timeouts and
    /// the gateway-ish statuses 502/503/504. Other answers, 4xx and 500 included, prove the
    /// upstream is up and deciding.
    public var isUpstreamFailure: Bool {
        switch self {
        case .answered(let status): RetryPolicy.retryableStatuses.contains(status)
        case .notSent, .timedOut, .failedAfterSending: true
        case .unretryable: false
        }
    }
}
