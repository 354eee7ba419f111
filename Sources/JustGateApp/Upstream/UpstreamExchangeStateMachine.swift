import JustGateCore

/// One request's way upstream as a value: created, attempting (a probe of a half-open circuit or not), deciding
/// whether to retry, backing off, finished; with the attempts made and whether it holds one of `max_in_flight`'s
/// slots. Each thing the exchange meets (started, admitted by the breaker, an attempt ended, the retry decided,
/// the backoff timer fired, cancelled) is a `mutating func` that moves the state on and returns what
/// `UpstreamExchange` must now do.
///
/// Why a value: the exchange is the edge that calls libcurl, the shared guards (slot, breaker, retry budget,
/// jitter) and the loop's timers; what may happen next (the completion exactly once, the slot given back
/// exactly once, a probe never left hanging, a timer or a call undone on cancel) is decided here without any of
/// them, so a table of (state, event) → (action, next state) tests all of it
/// (`UpstreamExchangeStateMachineTests`). It lives beside the exchange (one module, so its events inline).
///
/// Cheap on purpose (it runs a few times per request on the hot path): a few bytes, actions are enums of a few
/// `Bool`s and integers, nothing allocates. The last result stays with the edge (it is libcurl's answer); the
/// machine only knows whether there is one.
struct UpstreamExchangeStateMachine: Equatable, Sendable {
    enum State: Equatable, Sendable {
        /// Made, not started.
        case created
        /// An attempt is in flight; `probe` when it is the half-open circuit's one probe.
        case attempting(probe: Bool)
        /// The attempt ended and was recorded; the edge asks the retry policy and budget (`retryDecided`).
        case deciding
        /// Waiting out a backoff before the next attempt.
        case backingOff
        /// The completion has run (or runs now): every later event is ignored.
        case finished
    }

    /// How the exchange ends.
    enum Ending: Equatable, Sendable {
        /// No slot was free (`max_in_flight`).
        case overloaded
        /// The circuit was open before any attempt.
        case circuitOpen(retryAfterMs: Int64)
        /// With the last attempt's result (the circuit may have opened mid-retry: the site gets the failure
        /// it already has).
        case lastResult
        case cancelled
    }

    /// Finishing: run the completion once with `ending`, after undoing what is still running.
    struct Finish: Equatable, Sendable {
        var ending: Ending
        /// Give the `max_in_flight` slot back.
        var releaseSlot = false
        /// Tell the breaker the probe will not report (cancelled mid-probe).
        var abandonProbe = false
        /// Cancel the backoff timer.
        var cancelTimer = false
        /// Cancel the attempt in flight (after the completion: its `.cancelled` report is then ignored).
        var cancelCall = false
    }

    private(set) var state: State = .created
    /// Attempts made so far (reported with the completion).
    private(set) var attempts = 0
    /// Whether a `max_in_flight` slot is held.
    private(set) var holdsSlot = false
    /// Whether an attempt ended with a result (what `Ending.lastResult` hands on).
    private(set) var hasResult = false

    var isFinished: Bool { state == .finished }

    // MARK: - Starting and attempting

    enum StartAction: Equatable, Sendable {
        /// Count the call and ask the breaker (`admitted`).
        case admit
        case finish(Finish)
        case none
    }

    /// The exchange starts; `slotAcquired` says whether `max_in_flight` had room.
    mutating func start(slotAcquired: Bool) -> StartAction {
        guard state == .created else { return .none }
        guard slotAcquired else { return .finish(finish(.overloaded)) }
        holdsSlot = true
        return .admit
    }

    enum AdmitAction: Equatable, Sendable {
        /// Make an attempt (the breaker's one probe if `probe`).
        case send(probe: Bool)
        case finish(Finish)
        case none
    }

    /// The breaker's verdict on the next attempt (the first, or one after a backoff).
    mutating func admitted(_ admission: CircuitBreaker.Admission) -> AdmitAction {
        guard state == .created || state == .backingOff else { return .none }
        switch admission {
        case .rejected(let retryAfterMs):
            return .finish(finish(hasResult ? .lastResult : .circuitOpen(retryAfterMs: retryAfterMs)))
        case .probe:
            state = .attempting(probe: true)
        case .allowed:
            state = .attempting(probe: false)
        }
        attempts += 1
        return .send(probe: state == .attempting(probe: true))
    }

    enum AttemptEndedAction: Equatable, Sendable {
        /// Not attempting (cancelled meanwhile): the report is dropped.
        case ignore
        /// Tell the breaker how the attempt went (`upstreamFailure`, `probe`), then decide on a retry.
        case record(upstreamFailure: Bool, probe: Bool)
        case finish(Finish)
    }

    /// The attempt ended: `cancelled` when libcurl reports it was cancelled (the client went away), else with a
    /// result that counts against the upstream's health if `upstreamFailure`.
    mutating func attemptEnded(upstreamFailure: Bool, cancelled: Bool) -> AttemptEndedAction {
        guard case .attempting(let probe) = state else { return .ignore }
        if cancelled { return .finish(finish(.cancelled, callRunning: false)) }
        hasResult = true
        state = .deciding
        return .record(upstreamFailure: upstreamFailure, probe: probe)
    }

    enum RetryAction: Equatable, Sendable {
        /// Wait `afterMs`, then `backoffFired`.
        case backOff(afterMs: Int)
        case finish(Finish)
        case none
    }

    /// The retry policy, the time left and the budget decided: retry after `backoffMs`, or not (nil).
    mutating func retryDecided(backoffMs: Int?) -> RetryAction {
        guard state == .deciding else { return .none }
        guard let backoffMs else { return .finish(finish(.lastResult)) }
        state = .backingOff
        return .backOff(afterMs: backoffMs)
    }

    /// The backoff is over: ask the breaker again (`admitted`); false when not backing off.
    mutating func backoffFired() -> Bool {
        state == .backingOff
    }

    /// The client went away.
    mutating func cancel() -> Finish? {
        state == .finished ? nil : finish(.cancelled)
    }

    // MARK: - Finishing

    /// Moves to finished and says what to undo: the slot if held, the probe if one is in flight, the timer
    /// while backing off, the call while attempting and `callRunning` (not when libcurl reported it cancelled).
    private mutating func finish(_ ending: Ending, callRunning: Bool = true) -> Finish {
        var done = Finish(ending: ending, releaseSlot: holdsSlot)
        switch state {
        case .attempting(let probe):
            done.abandonProbe = probe
            done.cancelCall = callRunning
        case .backingOff:
            done.cancelTimer = ending == .cancelled
        case .created, .deciding, .finished:
            break
        }
        holdsSlot = false
        state = .finished
        return done
    }
}
