/// What operators see of the breaker (admin `/readyz`, metrics).
public enum CircuitState: String, Sendable, Equatable {
    /// Calls flow; failures are being counted.
    case closed
    /// Calls fail fast with 503 until the open period ends.
    case open
    /// The open period is over: one probe call decides between closed and open again.
    case halfOpen = "half_open"
}

/// The circuit breaker's state machine, with time passed in (monotonic milliseconds) so tests
/// drive it without sleeping.
///
/// After `failureThreshold` consecutive failed attempts the circuit opens: callers are refused
/// at once for `openMs` instead of each waiting out a timeout against an upstream that is down.
/// Then exactly one call (the probe) goes through; its success closes the circuit, its failure
/// opens it again for another `openMs`.
public struct CircuitBreaker: Sendable {
    /// Consecutive failed attempts that open the circuit (at least 1).
    public let failureThreshold: Int
    /// How long an open circuit refuses calls before the probe.
    public let openMs: Int64

    private enum State: Sendable {
        case closed(consecutiveFailures: Int)
        case open(untilMs: Int64)
        case halfOpen(probeInFlight: Bool)
    }
    private var state: State = .closed(consecutiveFailures: 0)

    /// Whether an attempt may go upstream.
    public enum Admission: Sendable, Equatable {
        /// The circuit is closed: go.
        case allowed
        /// The one half-open probe: go, and report its outcome with `isProbe: true`.
        case probe
        /// Fail fast; the circuit may let calls through again in `retryAfterMs`.
        case rejected(retryAfterMs: Int64)
    }

    /// A closed circuit with no failure counted.
    public init(failureThreshold: Int, openMs: Int64) {
        self.failureThreshold = max(failureThreshold, 1)
        self.openMs = max(openMs, 0)
    }

    /// The state as of `nowMs`: an open circuit whose period is over reads as half-open.
    public func state(nowMs: Int64) -> CircuitState {
        switch state {
        case .closed: .closed
        case .open(let until): nowMs >= until ? .halfOpen : .open
        case .halfOpen: .halfOpen
        }
    }

    /// The state the machine is in, without reading the clock: an open circuit stays open until a caller
    /// asks (`admit`) and becomes the probe. Transitions of this are what gets logged, once each.
    public var phase: CircuitState {
        switch state {
        case .closed: .closed
        case .open: .open
        case .halfOpen: .halfOpen
        }
    }

    /// Closed with no failure counted: the state in which an admission and a success change
    /// nothing, so callers may skip the lock (see `UpstreamGuards`).
    public var isClosedWithoutFailures: Bool {
        if case .closed(consecutiveFailures: 0) = state { return true }
        return false
    }

    /// Asks to send one attempt now.
    public mutating func admit(nowMs: Int64) -> Admission {
        switch state {
        case .closed:
            return .allowed
        case .open(let until) where nowMs < until:
            return .rejected(retryAfterMs: until - nowMs)
        case .open, .halfOpen(probeInFlight: false):
            state = .halfOpen(probeInFlight: true)
            return .probe
        case .halfOpen(probeInFlight: true):
            // The probe decides soon; one second is as good a guess as any.
            return .rejected(retryAfterMs: 1000)
        }
    }

    /// Reports how an admitted attempt ended.
    public mutating func record(failure: Bool, isProbe: Bool, nowMs: Int64) {
        switch (state, failure) {
        case (.halfOpen, true) where isProbe:
            state = .open(untilMs: nowMs + openMs)
        case (.halfOpen, false) where isProbe:
            state = .closed(consecutiveFailures: 0)
        case (.closed(let failures), true):
            state = failures + 1 >= failureThreshold ? .open(untilMs: nowMs + openMs) : .closed(consecutiveFailures: failures + 1)
        case (.closed, false):
            state = .closed(consecutiveFailures: 0)
        default:
            // An attempt admitted before the circuit opened that ends now says nothing new:
            // only the probe decides an open or half-open circuit.
            break
        }
    }

    /// The probe ended without an outcome (its client left and the call was cancelled): let
    /// the next caller probe instead.
    public mutating func abandonProbe() {
        if case .halfOpen(probeInFlight: true) = state { state = .halfOpen(probeInFlight: false) }
    }
}
