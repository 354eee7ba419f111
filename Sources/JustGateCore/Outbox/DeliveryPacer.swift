/// How many outbox deliveries one event loop may have under way, and when the next may start, so a backlog
/// drained after an outage goes at the pace the upstream and the loop can take without starving live calls
/// (issue 25 item 4).
///
/// Three rules, each for a different reason:
///
/// 1. **Live calls come first.** The signal is the gateway's own: how many live calls have an upstream exchange
///    under way, on any of its loops (`Load.liveCalls`: the loops share the cores). Against an upstream that answers within
///    `yieldBelowMicros` (the smoothed round trip of deliveries), a live call under way is about to need the loop
///    again, and a delivery begun now comes back at the same moment: while there is one, no delivery starts
///    beyond the floor (rule 3): `decide` says `.yield`, and the engine looks again as soon as the last live
///    call of its loop is answered (another loop's: at the yield's instant, a round trip later). Between live calls, and for `liveMemoryMicros` after the last one, the
///    window is at most `liveWindow` (one): a live call finds at most one delivery ahead of it, on the loop and
///    at the upstream. Against a fast upstream a delivery's round trip is mostly CPU (the loop's, the
///    upstream's, the kernel's), so this also bounds what the drain takes from the cores live calls run on:
///    filling the gaps with four under way drained 7,500 entries/s against nginx on the same two cores and
///    doubled the live p99; one at a time, 1,300/s at about 1.2x; a half or a quarter of the time (a window of
///    0.5 or 0.25, which pace) 450/s and 300/s at 1.1x to 1.2x, within this box's noise of one
///    (`bench/outbox/drain.sh`, bench/results/outbox.md). On a loop without live calls for that long the window
///    grows to `maxWindow` and the drain uses the idle loop. Against a slower upstream the live calls under way
///    are waiting for it, not for the loop (a delivery's send and answer take tens of microseconds of a loop
///    that is idle for milliseconds), so only rule 2 limits the drain there. Why not the round trip of
///    deliveries as the "live calls wait" signal (the pacer before this one): on shared cores a delivery's
///    round trip rises for reasons that come and go (other processes, a preempted thread), so it read "live
///    calls wait" when none did and drained a 100,000-entry backlog at ~100 to 1,800 entries/s against an
///    upstream that answers at once.
/// 2. **An upstream that slows down** still cuts the window: when the last `recentCount` round trips are all
///    above `base * (1 + tolerance) + slackMicros` (the base: the lowest round trip of the last 10 to 20 s)
///    the upstream or its connections queue, and every live call waits in the same queue: the window halves,
///    at most once per round trip. The slack is a few milliseconds, so the noise of busy cores (a delivery
///    late by a millisecond now and then) is not taken for a slower upstream. Below one the window paces
///    deliveries: one at a time, each `srtt / window` after the last began.
/// 3. **A floor, so the drain never crawls:** on average at least one delivery starts every
///    `floorIntervalMicros` (the engine sets it from `outbox.min_delivery_rate` divided among the loops),
///    whatever rules 1 and 2 say, within the delivery share of upstream slots and at most `maxWindow` under
///    way. Every start counts toward it (a burst the window allowed moves the floor's next start later by an
///    interval each), and a floor start late by less than half an interval (the loop's timers are
///    milliseconds) does not move the ones after it, so the floor's rate is the configured one. The
///    trade-off: under steady live load the drain takes that much of the upstream and the cores from live
///    calls (each delivery costs about what a live call costs), and in exchange a backlog of N entries is gone
///    within N / rate seconds (100,000 at 200/s: under 9 minutes) rather than hours.
///
/// Upstream slots (`max_in_flight`) are shared with every loop's live calls: no delivery but the floor's starts
/// while live calls hold `liveShare` of them, and deliveries never hold more than `deliveryShare` (at least one).
///
/// Pure and clock-free (the caller passes monotonic microseconds), so tests drive it without sockets or sleeps.
public struct DeliveryPacer: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Deliveries under way on one loop at most.
        public var maxWindow: Double = 32
        /// The slowest pace the window sets: one delivery per `1 / minWindow` round trips (the floor may be faster).
        public var minWindow: Double = 1.0 / 16
        public var initialWindow: Double = 1
        /// Recent round trips all above `base * (1 + tolerance) + slackMicros` count as an upstream that queues.
        public var tolerance: Double = 0.5
        public var slackMicros: Int64 = 5000
        /// How many of the last round trips must all be above that.
        public var recentCount = 4
        /// The base is the lowest round trip seen in the last one or two of these periods, so it follows an
        /// upstream that became slower for good instead of halving the window forever.
        public var basePeriodMicros: Int64 = 10_000_000
        /// No delivery but the floor's starts while live calls hold this share of `max_in_flight`.
        public var liveShare: Double = 0.5
        /// Deliveries of one loop hold at most this share of `max_in_flight` (at least one).
        public var deliveryShare: Double = 0.25
        /// At least one delivery starts this often (microseconds), whatever live calls and the window say;
        /// nil: no floor (a loop under steady live load then delivers nothing).
        public var floorIntervalMicros: Int64?
        /// Rule 1 applies while the smoothed round trip is below this: an upstream this fast brings live calls
        /// back to the loop as soon as deliveries.
        public var yieldBelowMicros: Int64 = 5000
        /// The window's ceiling while live calls were on the loop within `liveMemoryMicros` (rule 1); below one it
        /// would pace deliveries to that share of the time.
        public var liveWindow: Double = 1
        public var liveMemoryMicros: Int64 = 1_000_000

        public init() {}
    }

    /// What the loop is doing besides delivering, read when the engine asks `decide`.
    public struct Load: Sendable, Equatable {
        /// Live calls of the gateway with an upstream exchange under way, on every loop: they run on the same
        /// cores, so rule 1 yields to those of other loops too (a site with one keep-alive connection has all its
        /// calls on one loop, and another loop draining at full speed doubled their p99: `drain.sh --connections 1`).
        public var liveCalls: Int
        /// Upstream slots held by others than this loop's deliveries (live calls of every loop, other loops'
        /// deliveries), out of `maxInFlight`.
        public var liveInFlight: Int
        public var maxInFlight: Int

        public init(liveCalls: Int, liveInFlight: Int, maxInFlight: Int) {
            self.liveCalls = liveCalls
            self.liveInFlight = liveInFlight
            self.maxInFlight = maxInFlight
        }
    }

    /// What the loop may do now.
    public enum Decision: Equatable, Sendable {
        /// Start up to this many deliveries.
        case send(Int)
        /// Start none before this instant (monotonic microseconds); look again then.
        case wait(untilMicros: Int64)
        /// Live calls are on the loop: start none until they are answered, or until this instant (the floor's
        /// next start), whichever comes first.
        case yield(untilMicros: Int64)
        /// Start none until a delivery under way ends (or, with a floor, until `floorDueMicros`).
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
    /// When `decide` last saw a live call on the loop.
    private var lastLiveMicros: Int64?
    /// When the floor starts its next delivery (rule 3); nil before the first start.
    private var floorNextMicros: Int64?
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

    /// When the floor starts its next delivery (rule 3); nil without a floor.
    public var floorDueMicros: Int64? {
        guard settings.floorIntervalMicros != nil else { return nil }
        return floorNextMicros ?? .min
    }

    /// How many deliveries may start now, given `inFlight` deliveries of this loop under way and what the loop
    /// and the upstream slots hold besides (`load`).
    public mutating func decide(inFlight: Int, load: Load, nowMicros: Int64) -> Decision {
        let share = max(1, Int(settings.deliveryShare * Double(load.maxInFlight)))
        guard inFlight < share else { return .full }
        let paced = windowDecision(inFlight: inFlight, share: share, load: load, nowMicros: nowMicros)
        if case .send = paced { return paced }
        // The floor: one start per interval, whatever the rules above said, with at most `maxWindow` under way
        // (an upstream that hangs until its timeout must not collect a floor's worth of calls per interval).
        guard let floorDue = floorDueMicros, inFlight < max(1, min(share, Int(settings.maxWindow))) else {
            return paced
        }
        if nowMicros >= floorDue { return .send(1) }
        switch paced {
        case .wait(let until): return .wait(untilMicros: min(until, floorDue))
        case .yield(let until): return .yield(untilMicros: min(until, floorDue))
        // Not a wait: a delivery that ends before the floor's instant makes room at once.
        case .full, .send: return paced
        }
    }

    /// Rules 1 and 2: live calls first, then the window.
    private mutating func windowDecision(inFlight: Int, share: Int, load: Load, nowMicros: Int64) -> Decision {
        let retry = nowMicros + max(smoothedMicros ?? 1000, 1000)
        if Double(load.liveInFlight) >= settings.liveShare * Double(load.maxInFlight) {
            decrease(nowMicros: nowMicros)
            return .wait(untilMicros: retry)
        }
        // Before the first answer the upstream's pace is unknown: taken as fast, the polite guess.
        let fastUpstream = (smoothedMicros ?? 0) < settings.yieldBelowMicros
        let live = load.liveCalls
        if live > 0 { lastLiveMicros = nowMicros }
        if fastUpstream, let lastLive = lastLiveMicros, nowMicros - lastLive < settings.liveMemoryMicros {
            window = min(window, max(settings.liveWindow, settings.minWindow))
            if live > 0 { return .yield(untilMicros: retry) }
        }
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
        guard let interval = settings.floorIntervalMicros.map({ max($0, 1) }) else { return }
        if let next = floorNextMicros, nowMicros - next < interval / 2 {
            floorNextMicros = next + interval
        } else {
            floorNextMicros = nowMicros + interval
        }
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
