import JustGateCore
import JustGateUpstream

extension Result<UpstreamResponse, UpstreamFailure> {
    /// One attempt's result as the retry policy and circuit breaker classify it.
    var attemptOutcome: AttemptOutcome {
        switch self {
        case .success(let response):
            .answered(status: response.status)
        case .failure(.unreachable), .failure(.connectTimedOut):
            .notSent
        case .failure(.timedOut):
            .timedOut
        case .failure(.connectionLost), .failure(.failed):
            .failedAfterSending
        case .failure(.responseTooLarge), .failure(.circuitOpen), .failure(.overloaded), .failure(.cancelled):
            .unretryable
        }
    }
}
