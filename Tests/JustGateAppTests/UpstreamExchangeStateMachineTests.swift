@testable import JustGateApp
import JustGateCore
import Testing

/// Every (state, event) → (action, next state) of `UpstreamExchangeStateMachine` the exchange can meet, as one
/// table: no slot, the circuit open before the first attempt or mid-retry, a probe cancelled, a late report
/// after a cancel, a cancel during the backoff; plus the invariants over every pair (the completion once, the
/// slot given back once, a probe never left hanging).
@Suite("Upstream exchange state machine")
struct UpstreamExchangeStateMachineTests {
    typealias Machine = UpstreamExchangeStateMachine
    typealias State = Machine.State
    typealias Finish = Machine.Finish

    enum Start: String, Sendable, CaseIterable {
        case created, attempting, probing, deciding, backingOff, retrying, retryProbing, finished, overloaded

        var machine: Machine {
            var m = Machine()
            switch self {
            case .created: break
            case .attempting: _ = m.start(slotAcquired: true); _ = m.admitted(.allowed)
            case .probing: _ = m.start(slotAcquired: true); _ = m.admitted(.probe)
            case .deciding:
                _ = m.start(slotAcquired: true); _ = m.admitted(.allowed)
                _ = m.attemptEnded(upstreamFailure: true, cancelled: false)
            case .backingOff:
                _ = m.start(slotAcquired: true); _ = m.admitted(.allowed)
                _ = m.attemptEnded(upstreamFailure: true, cancelled: false); _ = m.retryDecided(backoffMs: 25)
            case .retrying:
                _ = m.start(slotAcquired: true); _ = m.admitted(.allowed)
                _ = m.attemptEnded(upstreamFailure: true, cancelled: false); _ = m.retryDecided(backoffMs: 25)
                _ = m.backoffFired(); _ = m.admitted(.allowed)
            case .retryProbing:
                _ = m.start(slotAcquired: true); _ = m.admitted(.allowed)
                _ = m.attemptEnded(upstreamFailure: true, cancelled: false); _ = m.retryDecided(backoffMs: 25)
                _ = m.backoffFired(); _ = m.admitted(.probe)
            case .finished:
                _ = m.start(slotAcquired: true); _ = m.admitted(.allowed)
                _ = m.attemptEnded(upstreamFailure: false, cancelled: false); _ = m.retryDecided(backoffMs: nil)
            case .overloaded: _ = m.start(slotAcquired: false)
            }
            return m
        }
    }

    enum Event: Sendable, CaseIterable {
        case startWithSlot, startWithoutSlot, allowed, probe, rejected
        case endedOK, endedFailing, endedCancelled, retry, noRetry, backoffFired, cancel

        func apply(to m: inout Machine) -> String {
            switch self {
            case .startWithSlot: return "\(m.start(slotAcquired: true))"
            case .startWithoutSlot: return "\(m.start(slotAcquired: false))"
            case .allowed: return "\(m.admitted(.allowed))"
            case .probe: return "\(m.admitted(.probe))"
            case .rejected: return "\(m.admitted(.rejected(retryAfterMs: 700)))"
            case .endedOK: return "\(m.attemptEnded(upstreamFailure: false, cancelled: false))"
            case .endedFailing: return "\(m.attemptEnded(upstreamFailure: true, cancelled: false))"
            case .endedCancelled: return "\(m.attemptEnded(upstreamFailure: false, cancelled: true))"
            case .retry: return "\(m.retryDecided(backoffMs: 40))"
            case .noRetry: return "\(m.retryDecided(backoffMs: nil))"
            case .backoffFired: return m.backoffFired() ? "admit" : "none"
            case .cancel: return m.cancel().map { "\($0)" } ?? "none"
            }
        }
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let start: Start
        let event: Event
        let action: String
        let state: State
        let attempts: Int
        let holdsSlot: Bool

        init(_ start: Start, _ event: Event, _ action: String, _ state: State, attempts: Int, slot: Bool) {
            self.start = start
            self.event = event
            self.action = action
            self.state = state
            self.attempts = attempts
            self.holdsSlot = slot
        }

        var testDescription: String { "\(start.rawValue) + \(event) → \(action)" }
    }

    static func finish(_ ending: String, slot: Bool = true, probe: Bool = false, timer: Bool = false, call: Bool = false) -> String {
        "finish(JustGateApp.UpstreamExchangeStateMachine.Finish(ending: JustGateApp.UpstreamExchangeStateMachine.Ending.\(ending), "
            + "releaseSlot: \(slot), abandonProbe: \(probe), cancelTimer: \(timer), cancelCall: \(call)))"
    }

    /// A `Finish` as `cancel()` returns it (not wrapped in an action).
    static func cancelled(slot: Bool = true, probe: Bool = false, timer: Bool = false, call: Bool = false) -> String {
        "Finish(ending: JustGateApp.UpstreamExchangeStateMachine.Ending.cancelled, "
            + "releaseSlot: \(slot), abandonProbe: \(probe), cancelTimer: \(timer), cancelCall: \(call))"
    }

    static let table: [Row] = [
        // Starting: a slot, or 503 overloaded at once (no slot to give back).
        Row(.created, .startWithSlot, "admit", .created, attempts: 0, slot: true),
        Row(.created, .startWithoutSlot, finish("overloaded", slot: false), .finished, attempts: 0, slot: false),
        Row(.created, .cancel, cancelled(slot: false), .finished, attempts: 0, slot: false),
        // The breaker's verdict on the first attempt.
        Row(.created, .allowed, "send(probe: false)", .attempting(probe: false), attempts: 1, slot: false),
        Row(.created, .probe, "send(probe: true)", .attempting(probe: true), attempts: 1, slot: false),
        // Open before any attempt: circuit-open with the breaker's Retry-After.
        Row(.created, .rejected, finish("circuitOpen(retryAfterMs: 700)", slot: false), .finished, attempts: 0, slot: false),

        // An attempt in flight.
        Row(.attempting, .endedOK, "record(upstreamFailure: false, probe: false)", .deciding, attempts: 1, slot: true),
        Row(.attempting, .endedFailing, "record(upstreamFailure: true, probe: false)", .deciding, attempts: 1, slot: true),
        // libcurl reports the call cancelled (the client went away): no record, no cancel of a call that is over.
        Row(.attempting, .endedCancelled, finish("cancelled"), .finished, attempts: 1, slot: false),
        Row(.attempting, .cancel, cancelled(call: true), .finished, attempts: 1, slot: false),
        Row(.attempting, .allowed, "none", .attempting(probe: false), attempts: 1, slot: true),
        Row(.attempting, .backoffFired, "none", .attempting(probe: false), attempts: 1, slot: true),
        Row(.attempting, .retry, "none", .attempting(probe: false), attempts: 1, slot: true),
        // The half-open circuit's probe: recorded as a probe, or abandoned if the exchange goes away.
        Row(.probing, .endedFailing, "record(upstreamFailure: true, probe: true)", .deciding, attempts: 1, slot: true),
        Row(.probing, .cancel, cancelled(probe: true, call: true), .finished, attempts: 1, slot: false),
        Row(.probing, .endedCancelled, finish("cancelled", probe: true), .finished, attempts: 1, slot: false),

        // The attempt was recorded; the edge asked the policy, the deadline and the budget.
        Row(.deciding, .retry, "backOff(afterMs: 40)", .backingOff, attempts: 1, slot: true),
        Row(.deciding, .noRetry, finish("lastResult"), .finished, attempts: 1, slot: false),

        // Backing off.
        Row(.backingOff, .backoffFired, "admit", .backingOff, attempts: 1, slot: true),
        Row(.backingOff, .allowed, "send(probe: false)", .attempting(probe: false), attempts: 2, slot: true),
        Row(.backingOff, .probe, "send(probe: true)", .attempting(probe: true), attempts: 2, slot: true),
        // The circuit opened mid-retry: the site gets the failure it already has, not circuit-open.
        Row(.backingOff, .rejected, finish("lastResult"), .finished, attempts: 1, slot: false),
        Row(.backingOff, .cancel, cancelled(timer: true), .finished, attempts: 1, slot: false),
        Row(.backingOff, .endedOK, "ignore", .backingOff, attempts: 1, slot: true),
        Row(.retrying, .endedOK, "record(upstreamFailure: false, probe: false)", .deciding, attempts: 2, slot: true),
        Row(.retrying, .cancel, cancelled(call: true), .finished, attempts: 2, slot: false),
        Row(.retryProbing, .cancel, cancelled(probe: true, call: true), .finished, attempts: 2, slot: false),

        // Finished: everything late is dropped, the completion never runs twice.
        Row(.finished, .cancel, "none", .finished, attempts: 1, slot: false),
        Row(.finished, .endedOK, "ignore", .finished, attempts: 1, slot: false),
        Row(.finished, .endedCancelled, "ignore", .finished, attempts: 1, slot: false),
        Row(.finished, .backoffFired, "none", .finished, attempts: 1, slot: false),
        Row(.finished, .rejected, "none", .finished, attempts: 1, slot: false),
        Row(.finished, .startWithSlot, "none", .finished, attempts: 1, slot: false),
        Row(.overloaded, .cancel, "none", .finished, attempts: 0, slot: false),
        Row(.overloaded, .allowed, "none", .finished, attempts: 0, slot: false),
    ]

    @Test("(state, event) → (action, next state)", arguments: table)
    func transition(_ row: Row) {
        var machine = row.start.machine
        let action = row.event.apply(to: &machine)
        #expect(action == row.action)
        #expect(machine.state == row.state)
        #expect(machine.attempts == row.attempts)
        #expect(machine.holdsSlot == row.holdsSlot)
    }

    @Test("every event on every state: one completion, the slot back once, a probe never left hanging")
    func everyPairIsTotal() {
        for start in Start.allCases {
            for event in Event.allCases {
                let before = start.machine
                var machine = before
                let action = event.apply(to: &machine)
                let pair = "\(start) + \(event) → \(action)"
                let finishes = action.contains("Finish(")
                // A finish happens exactly when the state becomes finished, and never from finished.
                #expect(finishes == (machine.isFinished && !before.isFinished), "\(pair)")
                if finishes {
                    #expect(action.contains("releaseSlot: \(before.holdsSlot)"), "\(pair)")
                    #expect(!machine.holdsSlot, "\(pair)")
                    let probing = before.state == .attempting(probe: true)
                    #expect(action.contains("abandonProbe: \(probing)"), "\(pair)")
                    #expect(action.contains("cancelTimer: true") == (before.state == .backingOff && event == .cancel), "\(pair)")
                }
                // A slot is taken only by starting; attempts grow by one, and only by sending.
                #expect(!machine.holdsSlot || before.holdsSlot || event == .startWithSlot, "\(pair)")
                #expect(machine.attempts == before.attempts + (action.hasPrefix("send") ? 1 : 0), "\(pair)")
                if before.isFinished { #expect(machine == before, "\(pair)") }
            }
        }
    }
}
