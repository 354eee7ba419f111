import JustGateCore
import JustGateServer
import Synchronization

/// The upstream protection every event loop shares: the circuit breaker, the retry budget and
/// the in-flight limit. They describe the one upstream and the one process, so they are not per
/// loop; each is a few integers behind its own `Mutex` (or an atomic), held for a few
/// instructions per call.
///
/// `circuitState` and `callsInFlight` are the read-only views the admin `/readyz` and metrics use.
public final class UpstreamGuards: Sendable {
    /// Upstream calls allowed in flight at once, backoff waits included.
    public let maxInFlight: Int
    private let inFlight = Atomic<Int>(0)
    private let breaker: Mutex<CircuitBreaker>
    private let budget: Mutex<RetryBudget>
    /// Monotonic milliseconds; tests may pass their own.
    private let clock: @Sendable () -> Int64

    public init(circuit: CircuitConfig, retries: RetryConfig, maxInFlight: Int,
                clock: @escaping @Sendable () -> Int64 = { Int64(MonotonicNanos.now() / 1_000_000) }) {
        self.maxInFlight = maxInFlight
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

    // MARK: - For the exchanges

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
        let now = clock()
        return breaker.withLock { $0.admit(nowMs: now) }
    }

    func record(failure: Bool, isProbe: Bool) {
        let now = clock()
        breaker.withLock { $0.record(failure: failure, isProbe: isProbe, nowMs: now) }
    }

    func abandonProbe() {
        breaker.withLock { $0.abandonProbe() }
    }

    /// Counts a request's first attempt for the retry budget.
    func recordCall() {
        let now = clock()
        budget.withLock { $0.recordCall(nowMs: now) }
    }

    /// Takes one retry from the budget; false means the budget is spent.
    func spendRetry() -> Bool {
        let now = clock()
        return budget.withLock { $0.spendRetry(nowMs: now) }
    }
}
