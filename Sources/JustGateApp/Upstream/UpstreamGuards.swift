import JustGateCore
import JustGateReactor
import Synchronization

/// The upstream protection every event loop shares: the circuit breaker, the retry budget and
/// the in-flight limit. They describe the one upstream and the one process, so they are not per
/// loop; each is a few integers behind its own `Mutex` (or an atomic).
///
/// A healthy call takes no lock: the in-flight count is an atomic; while the breaker is closed
/// with no failure counted (`healthy`) neither admitting nor recording a success changes it; and
/// calls are counted in an atomic that is handed to the budget once a second. Locks are taken
/// when something fails, when a retry asks the budget, and once a second.
///
/// `circuitState` and `callsInFlight` are the read-only views the admin `/readyz` and metrics use.
public final class UpstreamGuards: Sendable {
    /// Upstream calls allowed in flight at once, backoff waits included.
    public let maxInFlight: Int
    private let inFlight = Atomic<Int>(0)
    /// Live calls (not outbox deliveries) with an upstream exchange under way, on every loop.
    private let liveCalls = Atomic<Int>(0)
    private let breaker: Mutex<CircuitBreaker>
    /// Mirrors `breaker.isClosedWithoutFailures`, stored under the breaker's lock.
    private let healthy = Atomic<Bool>(true)
    private let budget: Mutex<RetryBudget>
    /// Calls not yet handed to `budget`, all made in second `uncountedSecond`.
    private let uncountedCalls = Atomic<Int>(0)
    private let uncountedSecond = Atomic<Int64>(Int64.min)
    /// Monotonic milliseconds; tests may pass their own.
    private let clock: @Sendable () -> Int64
    /// Called outside the lock with (from, to) whenever the breaker's phase changes.
    private let onTransition: @Sendable (CircuitState, CircuitState) -> Void

    /// One set per process, made by `GatewayRuntime` and handed to every loop.
    public init(circuit: CircuitConfig, retries: RetryConfig, maxInFlight: Int,
                clock: @escaping @Sendable () -> Int64 = { MonotonicInstant.now().milliseconds },
                onTransition: @escaping @Sendable (CircuitState, CircuitState) -> Void = { _, _ in }) {
        self.maxInFlight = maxInFlight
        self.onTransition = onTransition
        breaker = Mutex(CircuitBreaker(failureThreshold: circuit.failures, openMs: Int64(circuit.openMs)))
        budget = Mutex(RetryBudget(percent: retries.budgetPercent, minimumRetries: retries.budgetMinRetries))
        self.clock = clock
    }

    /// The breaker as operators see it now.
    public var circuitState: CircuitState {
        let now = clock()
        return breaker.withLock { $0.state(nowMs: now) }
    }

    /// Requests between their first attempt and their answer, in the whole process.
    public var callsInFlight: Int { inFlight.load(ordering: .relaxed) }

    /// Live calls with an exchange under way on any loop: the delivery pacer yields to them whichever loop
    /// they are on, since the loops share the cores (`DeliveryPacer`, rule 1).
    public var liveCallsUnderWay: Int { liveCalls.load(ordering: .relaxed) }

    // MARK: - For the exchanges

    func liveCallBegan() { liveCalls.wrappingAdd(1, ordering: .relaxed) }

    func liveCallEnded() { liveCalls.wrappingSubtract(1, ordering: .relaxed) }

    /// Takes a slot for one request; false when `maxInFlight` are taken (answer 503 at once).
    func acquireSlot() -> Bool {
        let taken = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
        guard taken <= maxInFlight else {
            inFlight.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Gives back the slot of a finished request.
    func releaseSlot() {
        inFlight.wrappingSubtract(1, ordering: .relaxed)
    }

    func admit() -> CircuitBreaker.Admission {
        if healthy.load(ordering: .acquiring) { return .allowed }
        let now = clock()
        let (admission, change) = breaker.withLock { breaker in
            let before = breaker.phase
            let admission = breaker.admit(nowMs: now)
            healthy.store(breaker.isClosedWithoutFailures, ordering: .releasing)
            return (admission, (before, breaker.phase))
        }
        if change.0 != change.1 { onTransition(change.0, change.1) }
        return admission
    }

    func record(failure: Bool, isProbe: Bool) {
        if !failure && !isProbe && healthy.load(ordering: .acquiring) { return }
        let now = clock()
        let change = breaker.withLock { breaker in
            let before = breaker.phase
            breaker.record(failure: failure, isProbe: isProbe, nowMs: now)
            healthy.store(breaker.isClosedWithoutFailures, ordering: .releasing)
            return (before, breaker.phase)
        }
        if change.0 != change.1 { onTransition(change.0, change.1) }
    }

    func abandonProbe() {
        breaker.withLock { $0.abandonProbe() }
    }

    /// Counts a request's first attempt for the retry budget: in the atomic while the second is
    /// the same, handing the count to the budget when a new second starts. (A call racing the
    /// hand-over may be counted a second late; the budget is a share, not an exact count.)
    func recordCall() {
        let second = clock() / 1000
        if uncountedSecond.load(ordering: .relaxed) == second {
            uncountedCalls.wrappingAdd(1, ordering: .relaxed)
            return
        }
        budget.withLock { budget in
            handOverCalls(to: &budget)
            uncountedSecond.store(second, ordering: .relaxed)
            budget.recordCall(nowMs: second * 1000)
        }
    }

    /// Takes one retry from the budget; false means the budget is spent.
    func spendRetry() -> Bool {
        let now = clock()
        return budget.withLock { budget in
            handOverCalls(to: &budget)
            return budget.spendRetry(nowMs: now)
        }
    }

    /// Moves the calls counted in the atomic into the budget; under the budget's lock.
    private func handOverCalls(to budget: inout RetryBudget) {
        let calls = uncountedCalls.exchange(0, ordering: .relaxed)
        let second = uncountedSecond.load(ordering: .relaxed)
        if calls > 0 && second != Int64.min { budget.recordCalls(calls, nowMs: second * 1000) }
    }
}
