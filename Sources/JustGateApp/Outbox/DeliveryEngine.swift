import JustGateCore
import JustGateReactor
import JustGateServer
import JustGateUpstream

/// Delivers due outbox entries from one event loop, through that loop's `ResilientUpstream`: the same libcurl
/// client, deadline, circuit breaker and `max_in_flight` slots as live calls (issue 25 item 4).
///
/// Confined to its loop and never blocking it: it claims due entries (the queue hands each to one loop only,
/// and only the oldest of a site and juid), sends them, and records each verdict when the answer arrives on
/// this loop; a loop timer brings it back when the next entry comes due, and at least once a second, since
/// another loop's deferrals come due here too. How many deliveries are under way, and how fast they start, is
/// the `DeliveryPacer`'s call: it yields while live calls of the gateway are under way (the engine looks again
/// the moment the last one of this loop is answered, `ResilientUpstream.onLiveQuiet`, and within a round trip
/// of another loop's), keeps a window cut by an upstream
/// that slows down, and starts at least one delivery per floor interval (`outbox.min_delivery_rate` shared
/// by the loops), so an outbox drained after an outage leaves the loop's time and upstream slots to live calls
/// without ever stalling; at most `maxInFlight` per loop.
///
/// The site's token is taken from the context in force at each attempt (tokens rotate while entries wait) and
/// every answer is screened (`RelayedAnswer.screen`) before its body is kept.
final class DeliveryEngine {
    /// Deliveries under way on one loop at most.
    static let defaultMaxInFlight = 32
    /// The longest the engine sleeps without looking: entries deferred on other loops come due here too.
    static let pollMs: Int64 = 1000
    /// How long the engine stops claiming after the upstream's `max_in_flight` refused a delivery.
    static let overloadedPauseMs: Int64 = 200

    private let store: any OutboxBackend
    private let loop: EventLoop
    private let upstream: ResilientUpstream
    private let contexts: GatewayContextStore
    private let maxInFlight: Int
    private var sending: Set<String> = []
    private var exchanges: [String: UpstreamExchange] = [:]
    private var timer: Int?
    private var stopped = false
    /// `look` is running: a completion that runs inside it (a refusal is reported synchronously) asks for
    /// another round instead of re-entering, which with many due entries and the circuit open recursed
    /// without bound.
    private var looking = false
    private var lookAgain = false
    /// A claim is on its way (a Redis round trip): no second one until it is answered.
    private var claiming = false
    /// `kick` came while a claim was on its way: claim again once it is answered, not at the next poll.
    private var kickedWhileClaiming = false
    /// The gateway is stopping: no more claims; attempts under way finish within the grace (`stop` then).
    private var draining = false
    /// No claiming before this wall-clock millisecond: the upstream refused (circuit open,
    /// `max_in_flight` reached), and claiming meanwhile would only hold entry after entry.
    private var pausedUntilMs: Int64 = 0
    /// Decides how many deliveries may be under way and when the next may start (issue 25 item 4).
    private var pacer: DeliveryPacer
    /// No claiming before this monotonic microsecond: the pacer spaces deliveries out.
    private var pacedUntilMicros: Int64 = 0
    /// The pacer yielded to live calls: the last of this loop's being answered ends the wait early.
    private var yielding = false
    /// The pacer said the window is full: a delivery ending looks again (`answered`), and so does the timer at
    /// the floor's next start; entries being due is no reason to look before either (that was a timer of 0 ms
    /// re-armed on every loop turn while the window stayed full).
    private var full = false
    /// Called on the loop after each recorded attempt (metrics, audit, tests).
    var onSettled: ((OutboxEntry, DeliveryVerdict, OutboxUpdate) -> Void)?

    /// - Parameter floorPerSecond: this loop's share of `outbox.min_delivery_rate`: at least this many
    ///   deliveries start per second while entries are due, whatever live calls do (`DeliveryPacer`, rule 3).
    init(store: any OutboxBackend, loop: EventLoop, upstream: ResilientUpstream, contexts: GatewayContextStore,
         floorPerSecond: Double, maxInFlight: Int = DeliveryEngine.defaultMaxInFlight) {
        self.store = store
        self.loop = loop
        self.upstream = upstream
        self.contexts = contexts
        self.maxInFlight = maxInFlight
        var settings = DeliveryPacer.Settings()
        settings.maxWindow = Double(maxInFlight)
        settings.floorIntervalMicros = floorPerSecond > 0 ? Int64(max(1, 1_000_000 / floorPerSecond)) : nil
        pacer = DeliveryPacer(settings: settings)
        store.onLeaseLost = { [weak self] id in self?.leaseLost(id) }
        upstream.onLiveQuiet = { [weak self] in self?.liveQuiet() }
    }

    /// The loop's last live call was answered: a wait that was only for live calls ends now.
    private func liveQuiet() {
        guard yielding, !stopped, !draining else { return }
        yielding = false
        pacedUntilMicros = 0
        look()
    }

    /// Starts looking for due entries; call on the loop's thread.
    func start() { look() }

    /// Something may have come due (a deferral on this loop became durable, an operator retried an entry).
    func kick() {
        guard !stopped, !draining else { return }
        if claiming { kickedWhileClaiming = true }
        look()
    }

    /// The gateway began to stop: no more claims; what is under way may finish (`isBusy`) until `stop`.
    func stopClaiming() {
        draining = true
        if let timer { loop.cancelTimer(timer) }
        timer = nil
    }

    /// Attempts under way, or their records still on their way to the backend.
    var isBusy: Bool { !sending.isEmpty || store.hasWritesUnderWay }

    /// Stops sending; entries under way are given back to the queue (they stay pending on disk; with Redis
    /// their leases are released, so another gateway takes them at once).
    func stop() {
        stopped = true
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        let under = exchanges
        exchanges = [:]
        for (id, exchange) in under {
            sending.remove(id)
            exchange.cancel()
            store.unclaim(id: id)
        }
    }

    private func look() {
        guard !stopped, !draining else { return }
        guard !looking else {
            lookAgain = true
            return
        }
        looking = true
        defer { looking = false }
        repeat {
            lookAgain = false
            claimAndSend()
        } while lookAgain && !stopped
        if !stopped { scheduleNext() }
    }

    /// One round: claims what there is room for, counts every claimed entry as under way before sending any
    /// (so `room` holds even while completions run inside this loop), and after the first refusal gives the
    /// rest back unsent and pauses until the upstream may take calls again.
    private func claimAndSend() {
        guard !claiming else { return }
        let now = OutboxFileStore.wallClockMs()
        if now < pausedUntilMs { return }
        if upstream.guards.circuitState == .open {
            pausedUntilMs = now + min(DeliveryEngine.pollMs, 250)
            return
        }
        guard let room = paceRoom(), room > 0 else { return }
        claiming = true
        var answeredAtOnce = true
        store.claim(limit: room) { [self] claimed in
            claiming = false
            let kicked = kickedWhileClaiming
            kickedWhileClaiming = false
            sendClaimed(claimed)
            // Answered later (Redis): look again for more, and re-arm the timer from the new due time.
            if !answeredAtOnce && (!claimed.isEmpty || kicked) { look() } else if !answeredAtOnce { scheduleNext() }
        }
        answeredAtOnce = false
    }

    /// Counts every claimed entry as under way before sending any, then sends them.
    private func sendClaimed(_ claimed: [OutboxEntry]) {
        // An entry already under way here (its lease ended and this loop claimed it again) is not sent twice;
        // the attempt under way settles it with the new lease.
        let claimed = claimed.filter { !sending.contains($0.id) }
        for entry in claimed { sending.insert(entry.id) }
        for entry in claimed {
            guard !stopped, !draining, OutboxFileStore.wallClockMs() >= pausedUntilMs, store.mayStillSend(id: entry.id) else {
                sending.remove(entry.id)
                store.unclaim(id: entry.id)
                continue
            }
            send(entry)
        }
    }

    /// How many deliveries may start now (nil: none before `pacedUntilMicros`). The slots held by live calls are
    /// those held by others than this engine: other loops' deliveries count too, which only makes it yield sooner.
    private func paceRoom() -> Int? {
        let nowMicros = MonotonicInstant.now().microseconds
        if nowMicros < pacedUntilMicros { return nil }
        yielding = false
        full = false
        let load = DeliveryPacer.Load(liveCalls: upstream.guards.liveCallsUnderWay,
                                      liveInFlight: max(0, upstream.guards.callsInFlight - sending.count),
                                      maxInFlight: upstream.guards.maxInFlight)
        switch pacer.decide(inFlight: sending.count, load: load, nowMicros: nowMicros) {
        case .send(let count): return count
        case .full:
            full = true
            return 0
        case .wait(let until):
            pacedUntilMicros = until
            return nil
        case .yield(let until):
            pacedUntilMicros = until
            yielding = true
            return nil
        }
    }

    private func scheduleNext() {
        guard !stopped, !draining else { return }
        if let timer { loop.cancelTimer(timer) }
        var delay = DeliveryEngine.pollMs
        let now = OutboxFileStore.wallClockMs()
        let pacedMs = (pacedUntilMicros - MonotonicInstant.now().microseconds + 999) / 1000
        if now < pausedUntilMs {
            delay = min(delay, pausedUntilMs - now)
        } else if pacedMs > 0 {
            delay = min(delay, pacedMs)
        } else if full {
            // Full: a delivery's end looks again. The floor's instant, if still ahead, may let one more start;
            // one already past cannot until a delivery ends (the cap is what is full), so it arms nothing: a
            // 0 ms timer re-armed every loop turn would spin the loop until then.
            if let floor = pacer.floorDueMicros, floor != .min {
                let untilFloorMs = (floor - MonotonicInstant.now().microseconds + 999) / 1000
                if untilFloorMs > 0 { delay = min(delay, untilFloorMs) }
            }
        } else if sending.count < maxInFlight, let due = store.nextDueAtMs() {
            delay = max(0, min(due - now, delay))
        }
        timer = loop.scheduleTimer(afterMs: Int(delay)) { [self] in
            timer = nil
            look()
        }
    }

    private func send(_ entry: OutboxEntry) {
        let context = contexts.current
        guard let site = context.sites.first(where: { $0.id == entry.siteID }) else {
            // The site left the config (a reload): hold the entry until it returns or max_age passes.
            sending.remove(entry.id)
            hold(entry, reason: "site_not_configured", retryAfterMs: nil)
            return
        }
        var headers: [(name: String, value: String)] = [
            ("X-AUTH-TOKEN", site.upstreamToken.reveal()), ("Accept", "*/*"), ("User-Agent", JustGateVersion.userAgent),
            ("X-Request-Id", entry.requestID),
        ]
        if let contentType = entry.contentType { headers.append(("Content-Type", contentType)) }
        let request = UpstreamRequest(method: entry.method, url: context.upstreamBaseURL + entry.target, headers: headers,
                                      body: entry.body)
        // An operation the catalogue no longer lists gets the longest deadline there is, which a Redis
        // outbox's lease_ms outlasts (check-config), rather than a fixed 10 s that might not.
        let deadline = context.catalogue.operations.firstIndex { $0.id == entry.operationID }
            .map { context.upstreamTimeoutsMs[$0] } ?? context.upstreamTimeoutsMs.max() ?? 10_000
        let token = site.upstreamTokenBytes
        let began = MonotonicInstant.now().microseconds
        pacer.started(nowMicros: began)
        let exchange = upstream.send(request, deadlineMs: deadline, idempotent: false) { [self] result, attempts in
            exchanges[entry.id] = nil
            guard sending.remove(entry.id) != nil else { return }
            if attempts > 0 {
                let now = MonotonicInstant.now().microseconds
                pacer.finished(roundTripMicros: now - began, nowMicros: now)
            }
            answered(entry, RelayedAnswer.screen(result, token: token))
        }
        // The completion may already have run (refused before any attempt): keep only an exchange under way.
        if sending.contains(entry.id) { exchanges[entry.id] = exchange }
    }

    private func answered(_ entry: OutboxEntry, _ answer: Result<RelayedAnswer, UpstreamFailure>) {
        switch answer {
        case .success(let relayed):
            settle(entry, attempt: .answered(status: relayed.status), body: relayed.body, failure: nil)
        case .failure(.cancelled):
            store.unclaim(id: entry.id)
        case .failure(.circuitOpen(let retryAfterMs)):
            pause(forMs: retryAfterMs)
            hold(entry, reason: "circuit_open", retryAfterMs: retryAfterMs)
        case .failure(.overloaded):
            pause(forMs: Int(DeliveryEngine.overloadedPauseMs))
            hold(entry, reason: "over_max_in_flight", retryAfterMs: Int(DeliveryEngine.overloadedPauseMs))
        case .failure(let failure):
            settle(entry, attempt: .failed(reason: failure.reason.rawValue), failure: failure.reason.rawValue)
        }
        look()
    }

    /// The backend lost the entry's lease: the attempt is stopped and nothing is recorded (its completion
    /// finds it no longer under way); the key's next holder repeats it.
    private func leaseLost(_ id: String) {
        guard sending.remove(id) != nil else { return }
        exchanges.removeValue(forKey: id)?.cancel()
    }

    private func pause(forMs delay: Int) {
        pausedUntilMs = max(pausedUntilMs, OutboxFileStore.wallClockMs() + Int64(max(delay, 1)))
    }

    /// No call was made: the entry waits in memory only (nothing is written, its attempts and state are
    /// unchanged), unless `max_age` has passed, when the store records its end.
    private func hold(_ entry: OutboxEntry, reason: String, retryAfterMs: Int?) {
        if let (verdict, update) = store.hold(entry, reason: reason, retryAfterMs: retryAfterMs) {
            onSettled?(entry, verdict, update)
        }
    }

    private func settle(_ entry: OutboxEntry, attempt: DeliveryAttempt, body: [UInt8] = [], failure: String?) {
        store.settle(entry, attempt: attempt, body: body, failure: failure) { [weak self] verdict, update in
            self?.onSettled?(entry, verdict, update)
        }
    }
}
