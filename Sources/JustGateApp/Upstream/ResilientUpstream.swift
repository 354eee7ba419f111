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
    /// Live calls of this loop with an exchange under way (`start`, not the outbox's `send`): the outbox's
    /// delivery pacer yields to them (`DeliveryPacer`, rule 1). Counted here, where every exchange ends exactly
    /// once, rather than in the request phases, so a request that ends by an unusual path cannot leave it
    /// counting a live call forever (the drain would then go at its floor until a restart).
    private(set) var liveUnderWay = 0
    /// Runs on the loop when the last live exchange of the loop has ended and its completion has run (the live
    /// answer is on its way first): the delivery engine looks again at once instead of at its next timer.
    var onLiveQuiet: (() -> Void)?

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
    /// `live` marks a live call's exchange (counted in `liveUnderWay`); the outbox's deliveries are not.
    func send(_ call: UpstreamRequest, deadlineMs: Int, idempotent: Bool, live: Bool = false,
              completion: @escaping (Result<UpstreamResponse, UpstreamFailure>, Int) -> Void) -> UpstreamExchange {
        let exchange = UpstreamExchange(owner: self, call: call, deadlineMs: deadlineMs, idempotent: idempotent,
                                        live: live, completion: completion)
        if live {
            liveUnderWay += 1
            guards.liveCallBegan()
        }
        exchange.start()
        return exchange
    }

    /// A live exchange ended (before its completion runs).
    fileprivate func liveEnded() {
        liveUnderWay -= 1
        guards.liveCallEnded()
    }

    /// After a live exchange's completion ran: tells the delivery engine when the loop has no live call left.
    fileprivate func liveCompleted() {
        if liveUnderWay == 0 { onLiveQuiet?() }
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
///
/// The edge of `UpstreamExchangeStateMachine`: the machine decides what happens next, this class
/// asks the shared guards (slot, breaker, budget, jitter) between its events and performs its actions.
final class UpstreamExchange {
    /// A retry that would start with less time than this left is not worth making.
    static let minimumAttemptMs: Int64 = 10

    private let owner: ResilientUpstream
    private var call: UpstreamRequest
    private let deadline: MonotonicInstant
    private let idempotent: Bool
    /// A live call's exchange (`ResilientUpstream.liveUnderWay` counts it until it ends).
    private let live: Bool
    private var completion: ((Result<UpstreamResponse, UpstreamFailure>, Int) -> Void)?
    private var machine = UpstreamExchangeStateMachine()
    private var current: UpstreamCall?
    private var backoffTimer: Int?
    private var lastResult: Result<UpstreamResponse, UpstreamFailure>?

    fileprivate init(owner: ResilientUpstream, call: UpstreamRequest, deadlineMs: Int, idempotent: Bool, live: Bool,
                     completion: @escaping (Result<UpstreamResponse, UpstreamFailure>, Int) -> Void) {
        self.owner = owner
        self.call = call
        self.deadline = MonotonicInstant.now().advanced(byMilliseconds: max(deadlineMs, 1))
        self.idempotent = idempotent
        self.live = live
        self.completion = completion
    }

    fileprivate func start() {
        switch machine.start(slotAcquired: owner.guards.acquireSlot()) {
        case .admit:
            owner.guards.recordCall()
            attempt()
        case .finish(let done):
            perform(done)
        case .none:
            break
        }
    }

    /// The client went away: stop the attempt or the wait, and report `.cancelled`.
    func cancel() {
        if let done = machine.cancel() { perform(done) }
    }

    private func attempt() {
        switch machine.admitted(owner.guards.admit()) {
        case .send:
            let remaining = MonotonicInstant.now().milliseconds(until: deadline)
            call.timeoutMs = Int(min(max(remaining, 1), Int64(owner.attemptTimeoutMs ?? Int.max)))
            current = owner.attempt(call) { [self] result in attemptEnded(result) }
        case .finish(let done):
            perform(done)
        case .none:
            break
        }
    }

    private func attemptEnded(_ result: Result<UpstreamResponse, UpstreamFailure>) {
        let outcome = result.attemptOutcome
        var cancelled = false
        if case .failure(.cancelled) = result { cancelled = true }
        switch machine.attemptEnded(upstreamFailure: outcome.isUpstreamFailure, cancelled: cancelled) {
        case .ignore:
            return  // cancelled meanwhile
        case .finish(let done):
            current = nil
            perform(done)
            return
        case .record(let upstreamFailure, let probe):
            current = nil
            owner.guards.record(failure: upstreamFailure, isProbe: probe)
            lastResult = result
        }
        var backoffMs: Int?
        if owner.policy.mayRetry(after: outcome, idempotent: idempotent, attemptsMade: machine.attempts) {
            let delay = owner.policy.backoffMs(afterAttempt: machine.attempts, using: &owner.random)
            let remaining = MonotonicInstant.now().milliseconds(until: deadline)
            if remaining - Int64(delay) >= UpstreamExchange.minimumAttemptMs, owner.guards.spendRetry() {
                backoffMs = delay
            }
        }
        switch machine.retryDecided(backoffMs: backoffMs) {
        case .backOff(let delay):
            backoffTimer = owner.schedule(afterMs: delay) { [self] in
                backoffTimer = nil
                if machine.backoffFired() { attempt() }
            }
        case .finish(let done):
            perform(done)
        case .none:
            break
        }
    }

    /// Undoes what still runs, gives the slot back and runs the completion, once.
    private func perform(_ done: UpstreamExchangeStateMachine.Finish) {
        if done.cancelTimer, let backoffTimer {
            owner.cancelTimer(backoffTimer)
            self.backoffTimer = nil
        }
        if done.abandonProbe { owner.guards.abandonProbe() }
        let inFlight = done.cancelCall ? current : nil
        current = nil
        if done.releaseSlot { owner.guards.releaseSlot() }
        let result: Result<UpstreamResponse, UpstreamFailure>
        switch done.ending {
        case .overloaded: result = .failure(.overloaded(limit: owner.guards.maxInFlight))
        case .circuitOpen(let retryAfterMs): result = .failure(.circuitOpen(retryAfterMs: Int(retryAfterMs)))
        case .lastResult: result = lastResult ?? .failure(.cancelled)
        case .cancelled: result = .failure(.cancelled)
        }
        lastResult = nil
        guard let completion else { return }
        self.completion = nil
        if live { owner.liveEnded() }
        completion(result, machine.attempts)
        // Its `.cancelled` report finds the exchange finished and is ignored.
        inFlight?.cancel()
        if live { owner.liveCompleted() }
    }
}
