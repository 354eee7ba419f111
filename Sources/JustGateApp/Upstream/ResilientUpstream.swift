import JustGateCore
import JustGateReactor
import JustGateUpstream

/// One event loop's way upstream: the loop's libcurl client, wrapped in the process-wide guards
/// (in-flight limit, circuit breaker, retry budget) and the retry policy.
///
/// Confined to its loop, like the client. Backoff waits are the loop's timers, so a request
/// waiting to retry holds no thread and blocks nothing.
final class ResilientUpstream {
    private let client: UpstreamClient
    private let loop: EventLoop
    let guards: UpstreamGuards
    let policy: RetryPolicy
    let attemptTimeoutMs: Int?
    /// The source of backoff jitter; the system's is fine (it is drawn once per retry).
    var random = SystemRandomNumberGenerator()

    init(client: UpstreamClient, loop: EventLoop, guards: UpstreamGuards, retries: RetryConfig) {
        self.client = client
        self.loop = loop
        self.guards = guards
        self.policy = retries.policy
        self.attemptTimeoutMs = retries.attemptTimeoutMs
    }

    /// Starts a request: `call.timeoutMs` is its deadline for all attempts and waits together.
    /// `completion` runs once, on this loop, with the last result and the attempts made
    /// (0 when the request was refused before any attempt); `.cancelled` if the exchange is
    /// cancelled first.
    func send(_ call: UpstreamRequest, deadlineMs: Int, idempotent: Bool,
              completion: @escaping (Result<UpstreamResponse, UpstreamFailure>, Int) -> Void) -> UpstreamExchange {
        let exchange = UpstreamExchange(owner: self, call: call, deadlineMs: deadlineMs, idempotent: idempotent,
                                        completion: completion)
        exchange.start()
        return exchange
    }

    fileprivate func attempt(_ request: UpstreamRequest,
                             _ completion: @escaping (Result<UpstreamResponse, UpstreamFailure>) -> Void) -> UpstreamCall {
        client.send(request, completion: completion)
    }

    fileprivate func schedule(afterMs delay: Int, _ action: @escaping () -> Void) -> Int {
        loop.scheduleTimer(afterMs: delay, action)
    }

    fileprivate func cancelTimer(_ id: Int) { loop.cancelTimer(id) }
}

/// One request's attempts upstream, from the first to its answer. Each attempt may use what
/// is left of the deadline (or `attempt_timeout_ms`, if shorter); a retry is made only if the
/// policy says it is safe, the budget has one, and its backoff ends well before the deadline.
final class UpstreamExchange {
    /// A retry that would start with less time than this left is not worth making.
    static let minimumAttemptMs: Int64 = 10

    private let owner: ResilientUpstream
    private var call: UpstreamRequest
    private let deadline: MonotonicInstant
    private let idempotent: Bool
    private var completion: ((Result<UpstreamResponse, UpstreamFailure>, Int) -> Void)?
    private var attempts = 0
    private var current: UpstreamCall?
    private var backoffTimer: Int?
    private var isProbe = false
    private var holdsSlot = false
    private var lastResult: Result<UpstreamResponse, UpstreamFailure>?

    fileprivate init(owner: ResilientUpstream, call: UpstreamRequest, deadlineMs: Int, idempotent: Bool,
                     completion: @escaping (Result<UpstreamResponse, UpstreamFailure>, Int) -> Void) {
        self.owner = owner
        self.call = call
        self.deadline = MonotonicInstant.now().advanced(byMilliseconds: max(deadlineMs, 1))
        self.idempotent = idempotent
        self.completion = completion
    }

    fileprivate func start() {
        guard owner.guards.acquireSlot() else {
            finish(.failure(.overloaded(limit: owner.guards.maxInFlight)))
            return
        }
        holdsSlot = true
        owner.guards.recordCall()
        attempt()
    }

    /// The client went away: stop the attempt or the wait, and report `.cancelled`.
    func cancel() {
        guard completion != nil else { return }
        if let backoffTimer {
            owner.cancelTimer(backoffTimer)
            self.backoffTimer = nil
        }
        if isProbe {
            owner.guards.abandonProbe()
            isProbe = false
        }
        let inFlight = current
        current = nil
        finish(.failure(.cancelled))
        // Its `.cancelled` report finds the exchange finished and is ignored.
        inFlight?.cancel()
    }

    private func attempt() {
        switch owner.guards.admit() {
        case .rejected(let retryAfterMs):
            // Mid-retry the breaker opened: the site gets the failure it already has.
            finish(lastResult ?? .failure(.circuitOpen(retryAfterMs: Int(retryAfterMs))))
            return
        case .probe:
            isProbe = true
        case .allowed:
            isProbe = false
        }
        let remaining = MonotonicInstant.now().milliseconds(until: deadline)
        call.timeoutMs = Int(min(max(remaining, 1), Int64(owner.attemptTimeoutMs ?? Int.max)))
        attempts += 1
        current = owner.attempt(call) { [self] result in attemptEnded(result) }
    }

    private func attemptEnded(_ result: Result<UpstreamResponse, UpstreamFailure>) {
        guard completion != nil else { return }  // cancelled meanwhile
        current = nil
        let outcome = result.attemptOutcome
        if case .failure(.cancelled) = result {
            cancel()
            return
        }
        owner.guards.record(failure: outcome.isUpstreamFailure, isProbe: isProbe)
        isProbe = false
        lastResult = result
        guard owner.policy.mayRetry(after: outcome, idempotent: idempotent, attemptsMade: attempts) else {
            finish(result)
            return
        }
        let delay = owner.policy.backoffMs(afterAttempt: attempts, using: &owner.random)
        let remaining = MonotonicInstant.now().milliseconds(until: deadline)
        guard remaining - Int64(delay) >= UpstreamExchange.minimumAttemptMs, owner.guards.spendRetry() else {
            finish(result)
            return
        }
        backoffTimer = owner.schedule(afterMs: delay) { [self] in
            backoffTimer = nil
            attempt()
        }
    }

    private func finish(_ result: Result<UpstreamResponse, UpstreamFailure>) {
        guard let completion else { return }
        self.completion = nil
        if holdsSlot {
            holdsSlot = false
            owner.guards.releaseSlot()
        }
        completion(result, attempts)
    }
}
