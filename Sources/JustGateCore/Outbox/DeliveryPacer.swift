/// How many outbox deliveries one event loop may have under way, and when the next may start: a delay-based
/// AIMD window, so a backlog drained after an outage goes at the pace the upstream and the loop can take
/// without starving live calls (issue 25 item 4).
///
/// Why delay and not only a count: against an upstream that answers at once, a fixed number of deliveries in
/// flight is a loop that sends, settles and sends again as fast as the CPU allows, and live calls queue behind
/// that work (measured by bench/outbox/drain.sh: live p99 7.3x to 9x with 32 in flight per loop). The signal is
/// each delivery's round trip, from send to its answer handled on the loop. Its lowest recent value is the
/// base: the upstream's own pace with nothing queued. When the last few round trips are all well above the
/// base, something queues (the upstream, its connections, or the loop and the cores busy with other work) and
/// every live call on the loop waits in that same queue: the window halves, at most once per round trip. The
/// lowest of the last few, not the last one, is compared, since on shared cores single answers are late for
/// reasons that come and go (a preempted thread), and cutting on each would keep the drain at its floor. Round
/// trips near the base grow the window by one per round trip. Below one, the window paces instead: one
/// delivery at a time, each begun `srtt / window` after the last began, so even an instant upstream is not
/// driven at the CPU's pace.
///
/// Live calls come first for upstream slots (`max_in_flight`): no delivery starts while live calls hold
/// `liveShare` of them (and the window halves), and deliveries never hold more than `deliveryShare`.
///
/// Pure and clock-free (the caller passes monotonic microseconds), so tests drive it without sockets or sleeps.
public struct DeliveryPacer: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Deliveries under way on one loop at most.
        public var maxWindow: Double = 32
        /// The slowest pace: one delivery per `1 / minWindow` round trips.
        public var minWindow: Double = 1.0 / 16
        public var initialWindow: Double = 1
        /// Recent round trips all above `base * (1 + tolerance) + slackMicros` count as queueing.
        public var tolerance: Double = 0.5
        public var slackMicros: Int64 = 1000
        /// How many of the last round trips must all be above that.
        public var recentCount = 4
        /// The base is the lowest round trip seen in the last one or two of these periods, so it follows an
        /// upstream that became slower for good instead of halving the window forever.
        public var basePeriodMicros: Int64 = 10_000_000
        /// No delivery starts while live calls hold this share of `max_in_flight`.
        public var liveShare: Double = 0.5
        /// Deliveries of one loop hold at most this share of `max_in_flight` (at least one).
        public var deliveryShare: Double = 0.25

        public init() {}
    }

    /// What the loop may do now.
    public enum Decision: Equatable, Sendable {
        /// Start up to this many deliveries.
        case send(Int)
        /// Start none before this instant (monotonic microseconds); look again then.
        case wait(untilMicros: Int64)
        /// Start none until a delivery under way ends.
        case full
    }

    public let settings: Settings
    /// Deliveries allowed under way; below 1, the share of round trips that start one.
    public private(set) var window: Double
    /// The smoothed round trip (microseconds); nil before the first answer.
    public private(set) var smoothedMicros: Int64?
    /// The lowest round trip of this period and of the one before: `base` is the lower of the two.
    private var periodMin: Int64 = .max
    private var previousPeriodMin: Int64 = .max
    private var periodStartMicros: Int64?
    private var lastStartMicros: Int64?
    private var lastDecreaseMicros: Int64?
    /// The last `recentCount` round trips, oldest first.
    private var recent: [Int64] = []

    public init(settings: Settings = Settings()) {
        self.settings = settings
        window = settings.initialWindow
    }

    /// The round trip with nothing queued, as far as recent answers tell.
    public var baseMicros: Int64? {
        let base = min(periodMin, previousPeriodMin)
        return base == .max ? nil : base
    }

    /// How many deliveries may start now, given `inFlight` deliveries of this loop under way and `liveInFlight`
    /// live calls holding upstream slots out of `maxInFlight`.
    public mutating func decide(inFlight: Int, liveInFlight: Int, maxInFlight: Int, nowMicros: Int64) -> Decision {
        if Double(liveInFlight) >= settings.liveShare * Double(maxInFlight) {
            decrease(nowMicros: nowMicros)
            return .wait(untilMicros: nowMicros + max(smoothedMicros ?? 1000, 1000))
        }
        let share = max(1, Int(settings.deliveryShare * Double(maxInFlight)))
        let allowed = min(share, max(1, Int(window)))
        guard inFlight < allowed else { return .full }
        guard window < 1 else { return .send(allowed - inFlight) }
        // Pacing: one at a time, spaced by a round trip divided by the window.
        guard inFlight == 0 else { return .full }
        guard let last = lastStartMicros, let smoothed = smoothedMicros else { return .send(1) }
        let next = last + Int64(Double(smoothed) / window)
        return nowMicros >= next ? .send(1) : .wait(untilMicros: next)
    }

    /// A delivery began now.
    public mutating func started(nowMicros: Int64) {
        lastStartMicros = nowMicros
    }

    /// A delivery's answer (or failure after it was sent) arrived `roundTripMicros` after it began.
    public mutating func finished(roundTripMicros: Int64, nowMicros: Int64) {
        let sample = max(roundTripMicros, 1)
        rollPeriod(nowMicros: nowMicros)
        periodMin = min(periodMin, sample)
        smoothedMicros = smoothedMicros.map { ($0 * 7 + sample) / 8 } ?? sample
        recent.append(sample)
        if recent.count > max(1, settings.recentCount) { recent.removeFirst() }
        let base = baseMicros ?? sample
        let limit = Int64(Double(base) * (1 + settings.tolerance)) + settings.slackMicros
        if recent.count >= max(1, settings.recentCount), let fastest = recent.min(), fastest > limit {
            decrease(nowMicros: nowMicros)
        } else if sample > limit {
            return   // late, but not yet the last few in a row: neither a cut nor a reason to grow
        } else if window < 1 {
            window = min(1, window * 1.25)
        } else {
            window = min(settings.maxWindow, window + 1 / window)
        }
    }

    /// Halves the window, at most once per smoothed round trip (one congestion event, one cut).
    private mutating func decrease(nowMicros: Int64) {
        if let last = lastDecreaseMicros, nowMicros - last < (smoothedMicros ?? 0) { return }
        lastDecreaseMicros = nowMicros
        window = max(settings.minWindow, window / 2)
    }

    private mutating func rollPeriod(nowMicros: Int64) {
        guard let start = periodStartMicros else {
            periodStartMicros = nowMicros
            return
        }
        if nowMicros - start >= settings.basePeriodMicros {
            previousPeriodMin = periodMin
            periodMin = .max
            periodStartMicros = nowMicros
        }
    }
}
