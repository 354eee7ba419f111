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
        #expect(pacer.decide(inFlight: 0, liveInFlight: 0, maxInFlight: 1024, nowMicros: 5000) == .send(4))
        #expect(pacer.decide(inFlight: 4, liveInFlight: 0, maxInFlight: 1024, nowMicros: 5000) == .full)
    }

    @Test func aRoundTripWellAboveTheBaseHalvesTheWindowOncePerRoundTrip() {
        var pacer = DeliveryPacer()
        var now = Self.run(&pacer, count: 30, roundTrip: 400, from: 0)
        let grown = pacer.window
        #expect(grown > 7)
        // The loop (or the upstream) queues: 5 ms against a 0.4 ms base. Three late answers in a row may be
        // chance (a preempted thread): no cut, no growth; the fourth makes it queueing.
        for _ in 0..<3 {
            now += 5000
            pacer.finished(roundTripMicros: 5000, nowMicros: now)
            #expect(pacer.window == grown)
        }
        now += 5000
        pacer.finished(roundTripMicros: 5000, nowMicros: now)
        #expect(pacer.window == grown / 2)
        // Another slow answer within the same round trip is the same congestion: no second cut.
        now += 100
        pacer.finished(roundTripMicros: 5000, nowMicros: now)
        #expect(pacer.window == grown / 2)
        // One round trip later it is a new one.
        now += 3000
        pacer.finished(roundTripMicros: 5000, nowMicros: now)
        #expect(pacer.window == grown / 4)
    }

    @Test func aWindowBelowOnePacesDeliveriesOneRoundTripOverTheWindowApart() throws {
        var pacer = DeliveryPacer()
        var now = Self.run(&pacer, count: 1, roundTrip: 1000, from: 0)
        // Sustained queueing drives the window under one.
        for _ in 0..<6 {
            now += 10_000
            pacer.finished(roundTripMicros: 4000, nowMicros: now)
        }
        #expect(pacer.window < 1)
        let window = pacer.window
        let smoothed = try #require(pacer.smoothedMicros)
        pacer.started(nowMicros: now)
        #expect(pacer.decide(inFlight: 1, liveInFlight: 0, maxInFlight: 1024, nowMicros: now) == .full)
        let next = now + Int64(Double(smoothed) / window)
        #expect(pacer.decide(inFlight: 0, liveInFlight: 0, maxInFlight: 1024, nowMicros: now + 1) == .wait(untilMicros: next))
        #expect(pacer.decide(inFlight: 0, liveInFlight: 0, maxInFlight: 1024, nowMicros: next) == .send(1))
    }

    @Test func theWindowNeverFallsBelowItsFloor() {
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
        let decision = pacer.decide(inFlight: 0, liveInFlight: 8, maxInFlight: 16, nowMicros: 20_000)
        guard case .wait(let until) = decision else {
            Issue.record("expected a wait, got \(decision)")
            return
        }
        #expect(until > 20_000)
        #expect(pacer.window == grown / 2)
        #expect(pacer.decide(inFlight: 0, liveInFlight: 7, maxInFlight: 16, nowMicros: until) != .full)
    }

    @Test func deliveriesHoldAtMostTheirShareOfTheUpstreamSlots() {
        var pacer = DeliveryPacer()
        _ = Self.run(&pacer, count: 200, roundTrip: 400, from: 0)
        #expect(pacer.window > 8)
        // max_in_flight 16: a quarter is 4.
        #expect(pacer.decide(inFlight: 0, liveInFlight: 0, maxInFlight: 16, nowMicros: 200_000) == .send(4))
        #expect(pacer.decide(inFlight: 4, liveInFlight: 0, maxInFlight: 16, nowMicros: 200_000) == .full)
        // Even max_in_flight 1 lets one delivery through when no live call holds it.
        #expect(pacer.decide(inFlight: 0, liveInFlight: 0, maxInFlight: 1, nowMicros: 200_000) == .send(1))
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
}
