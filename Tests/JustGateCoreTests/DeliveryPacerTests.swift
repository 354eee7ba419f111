import Testing
@testable import JustGateCore

/// The outbox delivery pacer (issue 25 item 4): a delay-based AIMD window that lets a backlog drain at the pace
/// the upstream and the loop take without starving live calls. Times are plain microseconds; no sockets.
@Suite struct DeliveryPacerTests {
    /// Feeds `count` deliveries of `roundTrip` one after another (each finishing before the next starts).
    static func run(_ pacer: inout DeliveryPacer, count: Int, roundTrip: Int64, from start: Int64) -> Int64 {
        var now = start
        for _ in 0..<count {
            pacer.started(nowMicros: now)
            now += roundTrip
            pacer.finished(roundTripMicros: roundTrip, nowMicros: now)
        }
        return now
    }

    @Test func roundTripsNearTheBaseGrowTheWindowByAboutOnePerRoundTrip() {
        var pacer = DeliveryPacer()
        #expect(pacer.window == 1)
        _ = Self.run(&pacer, count: 10, roundTrip: 400, from: 0)
        // Additive increase: +1/window per answer, so w(w+1)/2 answers take it from 1 to about w.
        #expect(pacer.window > 4 && pacer.window < 5)
        #expect(pacer.decide(inFlight: 0, load: Self.load(max: 1024), nowMicros: 5000) == .send(4))
        #expect(pacer.decide(inFlight: 4, load: Self.load(max: 1024), nowMicros: 5000) == .full)
    }

    @Test func aRoundTripWellAboveTheBaseHalvesTheWindowOncePerRoundTrip() {
        var pacer = DeliveryPacer()
        var now = Self.run(&pacer, count: 30, roundTrip: 400, from: 0)
        let grown = pacer.window
        #expect(grown > 7)
        // The upstream queues: 8 ms against a 0.4 ms base. Three late answers in a row may be
        // chance (a preempted thread): no cut, no growth; the fourth makes it queueing.
        for _ in 0..<3 {
            now += 8000
            pacer.finished(roundTripMicros: 8000, nowMicros: now)
            #expect(pacer.window == grown)
        }
        now += 8000
        pacer.finished(roundTripMicros: 8000, nowMicros: now)
        #expect(pacer.window == grown / 2)
        // Another slow answer within the same round trip is the same congestion: no second cut.
        now += 100
        pacer.finished(roundTripMicros: 8000, nowMicros: now)
        #expect(pacer.window == grown / 2)
        // One round trip later it is a new one.
        now += 5000
        pacer.finished(roundTripMicros: 8000, nowMicros: now)
        #expect(pacer.window == grown / 4)
    }

    @Test func aWindowBelowOnePacesDeliveriesOneRoundTripOverTheWindowApart() throws {
        var pacer = DeliveryPacer()
        var now = Self.run(&pacer, count: 1, roundTrip: 1000, from: 0)
        // Sustained queueing (8 ms against a 1 ms base: above 1.5 ms plus the 5 ms slack) drives the window under one.
        for _ in 0..<6 {
            now += 20_000
            pacer.finished(roundTripMicros: 8000, nowMicros: now)
        }
        #expect(pacer.window < 1)
        let window = pacer.window
        let smoothed = try #require(pacer.smoothedMicros)
        pacer.started(nowMicros: now)
        #expect(pacer.decide(inFlight: 1, load: Self.load(max: 1024), nowMicros: now) == .full)
        let next = now + Int64(Double(smoothed) / window)
        #expect(pacer.decide(inFlight: 0, load: Self.load(max: 1024), nowMicros: now + 1) == .wait(untilMicros: next))
        #expect(pacer.decide(inFlight: 0, load: Self.load(max: 1024), nowMicros: next) == .send(1))
    }

    @Test func theWindowNeverFallsBelowItsMinimum() {
        var pacer = DeliveryPacer()
        var now: Int64 = 0
        _ = Self.run(&pacer, count: 1, roundTrip: 100, from: 0)
        // 100 congested answers 60 ms apart: 6 s, within one base period, so the base stays 100 µs.
        for _ in 0..<100 {
            now += 60_000
            pacer.finished(roundTripMicros: 50_000, nowMicros: now)
        }
        #expect(pacer.window == pacer.settings.minWindow)
    }

    @Test func liveCallsHoldingHalfTheUpstreamSlotsStopDeliveriesAndShrinkTheWindow() {
        var pacer = DeliveryPacer()
        _ = Self.run(&pacer, count: 30, roundTrip: 400, from: 0)
        let grown = pacer.window
        let decision = pacer.decide(inFlight: 0, load: Self.load(slots: 8, max: 16), nowMicros: 20_000)
        guard case .wait(let until) = decision else {
            Issue.record("expected a wait, got \(decision)")
            return
        }
        #expect(until > 20_000)
        #expect(pacer.window == grown / 2)
        #expect(pacer.decide(inFlight: 0, load: Self.load(slots: 7, max: 16), nowMicros: until) != .full)
    }

    @Test func deliveriesHoldAtMostTheirShareOfTheUpstreamSlots() {
        var pacer = DeliveryPacer()
        _ = Self.run(&pacer, count: 200, roundTrip: 400, from: 0)
        #expect(pacer.window > 8)
        // max_in_flight 16: a quarter is 4.
        #expect(pacer.decide(inFlight: 0, load: Self.load(max: 16), nowMicros: 200_000) == .send(4))
        #expect(pacer.decide(inFlight: 4, load: Self.load(max: 16), nowMicros: 200_000) == .full)
        // Even max_in_flight 1 lets one delivery through when no live call holds it.
        #expect(pacer.decide(inFlight: 0, load: Self.load(max: 1), nowMicros: 200_000) == .send(1))
    }

    @Test func theBaseFollowsAnUpstreamThatBecameSlowerForGood() {
        var settings = DeliveryPacer.Settings()
        settings.basePeriodMicros = 1_000_000
        var pacer = DeliveryPacer(settings: settings)
        var now = Self.run(&pacer, count: 10, roundTrip: 400, from: 0)
        #expect(pacer.baseMicros == 400)
        // The upstream now takes 10 ms: at first that is queueing, after two periods it is the new base.
        now = Self.run(&pacer, count: 300, roundTrip: 10_000, from: now)
        #expect(pacer.baseMicros == 10_000)
        let window = pacer.window
        _ = Self.run(&pacer, count: 5, roundTrip: 10_000, from: now)
        #expect(pacer.window > window, "round trips at the new base grow the window again")
    }

    // MARK: - Live calls on the loop (rule 1) and the floor (rule 3)

    static func load(live: Int = 0, slots: Int = 0, max: Int = 1024) -> DeliveryPacer.Load {
        .init(liveCalls: live, liveInFlight: slots, maxInFlight: max)
    }

    /// A pacer whose window grew to about 7 over 400 µs round trips, ending at 12,000 µs.
    static func grown(floorMicros: Int64? = nil) -> DeliveryPacer {
        var settings = DeliveryPacer.Settings()
        settings.floorIntervalMicros = floorMicros
        var pacer = DeliveryPacer(settings: settings)
        _ = run(&pacer, count: 30, roundTrip: 400, from: 0)
        return pacer
    }

    /// Live calls under way: nothing starts until they are answered (or a round trip passes, at least
    /// 1 ms); without them the window is used whole.
    @Test(arguments: [
        (0, 0, DeliveryPacer.Decision.send(7)), (0, 5, .send(2)), (0, 7, .full),
        (1, 0, .yield(untilMicros: 13_000)), (4, 0, .yield(untilMicros: 13_000)), (1, 5, .yield(untilMicros: 13_000)),
    ])
    func liveCallsMakeDeliveriesYield(live: Int, inFlight: Int, expected: DeliveryPacer.Decision) {
        var pacer = Self.grown()
        #expect(Int(pacer.window) == 7)
        #expect(pacer.decide(inFlight: inFlight, load: Self.load(live: live), nowMicros: 12_000) == expected)
    }

    /// Live calls count whichever loop they are on (the engine passes the gateway's count): the loops share the
    /// cores, and a site with one keep-alive connection has all its calls on one loop while another drained at
    /// full speed (2x live p99). After them, one at a time on every loop.
    @Test(arguments: [(0, DeliveryPacer.Decision.send(7)), (1, .yield(untilMicros: 13_000)), (3, .yield(untilMicros: 13_000))])
    func liveCallsOfAnyLoopMakeDeliveriesYield(live: Int, expected: DeliveryPacer.Decision) {
        var pacer = Self.grown()
        #expect(pacer.decide(inFlight: 0, load: Self.load(live: live), nowMicros: 12_000) == expected)
        if live > 0 {
            // And for a second after, one at a time on this loop too.
            #expect(pacer.decide(inFlight: 0, load: Self.load(), nowMicros: 13_000) == .send(1))
            #expect(pacer.decide(inFlight: 1, load: Self.load(), nowMicros: 13_100) == .full)
        }
    }

    /// Between live calls, and for a second after the last, deliveries go one at a time (`liveWindow` one): a live
    /// call finds at most one ahead of it.
    @Test func betweenLiveCallsDeliveriesGoOneAtATime() {
        var pacer = Self.grown()
        #expect(pacer.window > 7)
        #expect(pacer.decide(inFlight: 0, load: Self.load(live: 2), nowMicros: 12_000) == .yield(untilMicros: 13_000))
        #expect(pacer.window == 1)
        pacer.started(nowMicros: 12_100)
        #expect(pacer.decide(inFlight: 1, load: Self.load(), nowMicros: 12_200) == .full)
        #expect(pacer.decide(inFlight: 0, load: Self.load(), nowMicros: 12_600) == .send(1))
    }

    /// Between live calls the window is at most `liveWindow` for a second after the last one (then it grows
    /// again from there: `theWindowGrowsPastTheLiveCeilingASecondAfterTheLastLiveCall`); against
    /// an upstream slower than `yieldBelowMicros` (5 ms) live calls under way wait for it, not for the loop, and
    /// neither make deliveries yield nor hold the window down.
    @Test(arguments: [
        // (round trip, live calls now, the last live call this long ago, the decision with nothing under way)
        (Int64(400), 1, Int64(0), DeliveryPacer.Decision.yield(untilMicros: 1000)), (400, 0, 1000, .send(1)),
        (400, 0, 999_999, .send(1)),
        (20_000, 3, 0, .send(7)), (20_000, 0, 1000, .send(7)),
    ])
    func liveCallsHoldTheWindowOnlyAgainstAFastUpstream(roundTrip: Int64, live: Int, ago: Int64,
                                                        expected: DeliveryPacer.Decision) {
        var settings = DeliveryPacer.Settings()
        settings.basePeriodMicros = 100_000_000
        var pacer = DeliveryPacer(settings: settings)
        let end = Self.run(&pacer, count: 30, roundTrip: roundTrip, from: 0)
        #expect(Int(pacer.window) == 7)
        // A live call seen `ago` before `now`, then the decision now.
        let now = end + 2_000_000
        _ = pacer.decide(inFlight: 0, load: Self.load(live: 1), nowMicros: now - max(ago, 1))
        let decision = pacer.decide(inFlight: 0, load: Self.load(live: live), nowMicros: now)
        if case .yield(let until) = expected {
            #expect(decision == .yield(untilMicros: now + until))
        } else {
            #expect(decision == expected)
        }
    }

    /// The floor starts one delivery per interval under any live load, counted from the last start of any kind.
    @Test(arguments: [
        // (live calls on the loop, upstream slots held by live calls of 16, floor interval, starts in one second)
        (1, 0, Int64(5000), 200), (3, 0, 1000, 1000), (0, 8, 5000, 200), (2, 16, 20_000, 50),
    ])
    func theFloorStartsOneDeliveryPerIntervalWhateverLiveCallsDo(live: Int, slots: Int, interval: Int64,
                                                                  perSecond: Int) {
        var settings = DeliveryPacer.Settings()
        settings.floorIntervalMicros = interval
        var pacer = DeliveryPacer(settings: settings)
        var now: Int64 = 12_000
        var starts = 0
        let end = now + 1_000_000
        // Each delivery takes 400 µs; the loop looks again whenever the pacer said to, or its delivery ended.
        var underWayUntil: Int64?
        while now < end {
            if let until = underWayUntil, now >= until {
                pacer.finished(roundTripMicros: 400, nowMicros: until)
                underWayUntil = nil
            }
            let inFlight = underWayUntil == nil ? 0 : 1
            let load = Self.load(live: live, slots: slots, max: 16)
            switch pacer.decide(inFlight: inFlight, load: load, nowMicros: now) {
            case .send(let count):
                #expect(count == 1)
                pacer.started(nowMicros: now)
                starts += 1
                underWayUntil = now + 400
                // The loop comes back to the pacer a little late, as its millisecond timers do: the rate holds.
                now += 300
            case .wait(let until), .yield(let until):
                #expect(until > now)
                now = min(until, underWayUntil ?? until)
            case .full:
                now = underWayUntil ?? now + 1
            }
        }
        #expect(abs(starts - perSecond) <= 1, "\(starts) starts in one second")
    }

    /// With no live calls the floor adds nothing to a window that starts deliveries faster anyway: every start
    /// counts toward it (31 starts at an interval of 5 ms: the floor's next is 155 ms after the first).
    @Test func theFloorAddsNothingWhereTheWindowIsFaster() {
        var pacer = Self.grown(floorMicros: 5000)
        #expect(pacer.decide(inFlight: 0, load: Self.load(), nowMicros: 12_000) == .send(7))
        pacer.started(nowMicros: 12_000)
        #expect(pacer.floorDueMicros == 155_000)
        // Full until a delivery ends, or until the floor's instant (the engine's timer is set for it).
        #expect(pacer.decide(inFlight: 7, load: Self.load(), nowMicros: 12_001) == .full)
        // At the floor's instant one more may start beyond the window, but never beyond maxWindow or the share.
        #expect(pacer.decide(inFlight: 7, load: Self.load(), nowMicros: 155_000) == .send(1))
        #expect(pacer.decide(inFlight: 32, load: Self.load(), nowMicros: 155_000) == .full)
        #expect(pacer.decide(inFlight: 4, load: Self.load(max: 16), nowMicros: 155_000) == .full)
    }

    /// The window's pacing below one never spaces deliveries further apart than the floor's interval.
    @Test func theFloorBoundsTheWindowsPacing() throws {
        var pacer = Self.grown(floorMicros: 10_000)
        var now: Int64 = 12_000
        for _ in 0..<40 {
            now += 60_000
            pacer.finished(roundTripMicros: 50_000, nowMicros: now)
        }
        #expect(pacer.window == pacer.settings.minWindow)
        pacer.started(nowMicros: now)
        #expect(pacer.decide(inFlight: 0, load: Self.load(), nowMicros: now + 1) == .wait(untilMicros: now + 10_000))
        #expect(pacer.decide(inFlight: 0, load: Self.load(), nowMicros: now + 10_000) == .send(1))
    }

    /// Round trips a few milliseconds late (busy cores) are not an upstream that slows down: only those past
    /// 1.5 times the base plus the 5 ms slack, four in a row, cut the window.
    @Test(arguments: [(Int64(1500), false), (5500, false), (5700, true), (8000, true), (20_000, true)])
    func onlyRoundTripsWellPastTheBaseCutTheWindow(roundTrip: Int64, cuts: Bool) {
        var pacer = Self.grown()
        let grown = pacer.window
        var now: Int64 = 12_000
        for _ in 0..<4 {
            now += roundTrip
            pacer.finished(roundTripMicros: roundTrip, nowMicros: now)
        }
        #expect((pacer.window < grown) == cuts)
    }

    @Test func theWindowGrowsPastTheLiveCeilingASecondAfterTheLastLiveCall() {
        var pacer = Self.grown()
        _ = pacer.decide(inFlight: 0, load: Self.load(live: 1), nowMicros: 12_000)
        #expect(pacer.window == 1)
        // Within the second, answers at the base grow the window, but decisions hold it at the ceiling.
        var now = Self.run(&pacer, count: 10, roundTrip: 400, from: 12_000)
        _ = pacer.decide(inFlight: 0, load: Self.load(), nowMicros: now)
        #expect(pacer.window == 1)
        // A second after the last live call the ceiling is gone: the same answers take it past 2.
        now = Self.run(&pacer, count: 10, roundTrip: 400, from: 1_012_000)
        #expect(pacer.window > 2)
        #expect(pacer.decide(inFlight: 0, load: Self.load(), nowMicros: now) == .send(Int(pacer.window)))
    }
}
