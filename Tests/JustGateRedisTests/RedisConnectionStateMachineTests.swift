@testable import JustGateRedis
import Testing

/// Every (state, event) → (action, next state) of `RedisConnectionStateMachine` the connection can meet, as one
/// table: commands during the first connect and while reconnecting, handshake error replies, unsolicited
/// replies, a deadline during the handshake, the backoff doubling to 2 s, an outage reported once.
@Suite("Redis connection state machine")
struct RedisConnectionStateMachineTests {
    typealias Machine = RedisConnectionStateMachine
    typealias State = Machine.State

    static let timeoutMs = 500
    static let ms: UInt64 = 1_000_000
    /// When the event under test happens: one second after the start state was reached (at 0).
    static let now: UInt64 = 1_000 * ms
    /// The first connect's handshake deadline: at 0, for max(timeout, 1 s).
    static let handshakeDeadline: UInt64 = 1_000 * ms

    /// The states a table row starts from, each reached by the events a real connection goes through.
    enum Start: String, Sendable, CaseIterable {
        case fresh, firstConnecting, firstHandshakeHalfway, firstConnectingWithCommand, emptyHandshakeConnecting
        case ready, readyWithCommand, readyWithTwoCommands, downAfterFailure, reconnecting, downAgain

        var machine: Machine {
            var m = Machine(handshakeCount: self == .emptyHandshakeConnecting ? 0 : 2, timeoutMs: RedisConnectionStateMachineTests.timeoutMs)
            func connect() { _ = m.connectRequested(now: 0) }
            func handshake() {
                _ = m.replyParsed(isError: false, waiting: 0)
                _ = m.replyParsed(isError: false, waiting: 0)
            }
            switch self {
            case .fresh: break
            case .firstConnecting, .emptyHandshakeConnecting: connect()
            case .firstHandshakeHalfway: connect(); _ = m.replyParsed(isError: false, waiting: 0)
            case .firstConnectingWithCommand: connect(); _ = m.commandSubmitted(now: 0)
            case .ready: connect(); handshake()
            case .readyWithCommand: connect(); handshake(); _ = m.commandSubmitted(now: 0)
            case .readyWithTwoCommands: connect(); handshake(); _ = m.commandSubmitted(now: 0); _ = m.commandSubmitted(now: 0)
            case .downAfterFailure: connect(); handshake(); _ = m.connectionBroke()
            case .reconnecting: connect(); handshake(); _ = m.connectionBroke(); _ = m.reconnectTimerFired(now: 0)
            case .downAgain:
                connect(); handshake(); _ = m.connectionBroke(); _ = m.reconnectTimerFired(now: 0)
                _ = m.socketOpenFailed()
            }
            return m
        }
    }

    enum Event: Sendable, CaseIterable {
        case connectRequested, reconnectTimerFired, socketOpenFailed, connectRefused, connectOK, connectOKWithOneWaiting
        case submit, reply, errorReply, replyWithOneWaiting, replyWithTwoWaiting, errorReplyWithOneWaiting
        case broke, deadlineNothingWaiting, deadlinePassed, deadlineNotYet

        /// Applies the event at `RedisConnectionStateMachineTests.now`; the action as text.
        func apply(to m: inout Machine) -> String {
            let now = RedisConnectionStateMachineTests.now
            switch self {
            case .connectRequested: return "\(m.connectRequested(now: now))"
            case .reconnectTimerFired: return "\(m.reconnectTimerFired(now: now))"
            case .socketOpenFailed: return "\(m.socketOpenFailed())"
            case .connectRefused: return "\(m.connectCompleted(socketError: true, waiting: 0))"
            case .connectOK: return "\(m.connectCompleted(socketError: false, waiting: 0))"
            case .connectOKWithOneWaiting: return "\(m.connectCompleted(socketError: false, waiting: 1))"
            case .submit: return "\(m.commandSubmitted(now: now))"
            case .reply: return "\(m.replyParsed(isError: false, waiting: 0))"
            case .errorReply: return "\(m.replyParsed(isError: true, waiting: 0))"
            case .replyWithOneWaiting: return "\(m.replyParsed(isError: false, waiting: 1))"
            case .replyWithTwoWaiting: return "\(m.replyParsed(isError: false, waiting: 2))"
            case .errorReplyWithOneWaiting: return "\(m.replyParsed(isError: true, waiting: 1))"
            case .broke: return "\(m.connectionBroke())"
            case .deadlineNothingWaiting: return "\(m.deadlineFired(now: now, oldestDeadline: nil))"
            case .deadlinePassed: return "\(m.deadlineFired(now: now, oldestDeadline: now))"
            case .deadlineNotYet: return "\(m.deadlineFired(now: now, oldestDeadline: now + 1))"
            }
        }
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let start: Start
        let event: Event
        let action: String
        let state: State
        /// Anything else the row promises about the next state.
        let also: @Sendable (Machine) -> Bool

        init(_ start: Start, _ event: Event, _ action: String, _ state: State,
             also: @escaping @Sendable (Machine) -> Bool = { _ in true }) {
            self.start = start
            self.event = event
            self.action = action
            self.state = state
            self.also = also
        }

        var testDescription: String { "\(start.rawValue) + \(event) → \(action)" }
    }

    static let connecting = State.connecting(handshakeLeft: 2, handshakeDeadline: handshakeDeadline)
    static let reconnectingState = State.connecting(handshakeLeft: 2, handshakeDeadline: now + 1_000 * ms)
    static let downWaiting = State.down(reconnectScheduled: true)
    /// The handshake deadline of a connect requested at `now`.
    static let later = now + 1_000 * ms

    static let table: [Row] = [
        // Never connected.
        Row(.fresh, .connectRequested, "openSocket(handshakeDeadline: \(later))",
            .connecting(handshakeLeft: 2, handshakeDeadline: later), also: { $0.attempts == 1 && $0.deadlineArmed && $0.acceptsCommands }),
        // Not connected yet: a command fails at once.
        Row(.fresh, .submit, "refuse", .down(reconnectScheduled: false)),
        Row(.fresh, .reconnectTimerFired, "none", .down(reconnectScheduled: false)),
        Row(.fresh, .broke, "none", .down(reconnectScheduled: false)),
        Row(.fresh, .reply, "ignore", .down(reconnectScheduled: false)),

        // The first connect. A socket that cannot even be opened (a unix socket path that is not there) is an
        // outage like any other: reported (it used to be silent, since the state was already down).
        Row(.firstConnecting, .socketOpenFailed, "failAll(reportDown: true, reconnectAfterMs: 50)", downWaiting,
            also: { $0.outageReported && $0.backoffMs == 100 && !$0.deadlineArmed && !$0.acceptsCommands }),
        Row(.firstConnecting, .connectRefused, "fail(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))",
            downWaiting),
        Row(.firstConnecting, .connectOK, "flush", connecting),
        Row(.firstConnecting, .connectRequested, "none", connecting, also: { $0.attempts == 1 }),
        // A command during the first connect is queued behind the handshake and waits at least for its deadline;
        // the handshake's deadline timer already runs.
        Row(.firstConnecting, .submit, "queue(deadline: \(handshakeDeadline + 500 * ms), armDeadline: false, flush: false)", connecting),
        Row(.firstConnecting, .reply, "keepHandshakeReply(becameReady: false, deadline: JustGateRedis.RedisConnectionStateMachine.DeadlineChange.keep)",
            .connecting(handshakeLeft: 1, handshakeDeadline: handshakeDeadline), also: { !$0.awaitsConnectResult }),
        // Redis refuses the set-up (a wrong password): an outage.
        Row(.firstConnecting, .errorReply, "handshakeRefused(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))",
            downWaiting),
        // The handshake takes longer than its deadline, with commands waiting or not.
        Row(.firstConnecting, .deadlineNothingWaiting, "timedOut(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))",
            downWaiting),
        Row(.firstConnectingWithCommand, .deadlineNotYet, "timedOut(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))",
            downWaiting),
        Row(.firstConnectingWithCommand, .broke, "failAll(reportDown: true, reconnectAfterMs: 50)", downWaiting),
        Row(.firstHandshakeHalfway, .connectOK, "flush", .connecting(handshakeLeft: 1, handshakeDeadline: handshakeDeadline)),
        // The last handshake reply: ready, reported; the queued command's deadline takes over.
        Row(.firstHandshakeHalfway, .reply, "keepHandshakeReply(becameReady: true, deadline: JustGateRedis.RedisConnectionStateMachine.DeadlineChange.cancel)",
            .ready, also: { !$0.deadlineArmed && !$0.outageReported && $0.backoffMs == 50 }),
        Row(.firstHandshakeHalfway, .replyWithOneWaiting, "keepHandshakeReply(becameReady: true, deadline: JustGateRedis.RedisConnectionStateMachine.DeadlineChange.armOldest)",
            .ready, also: { $0.deadlineArmed }),
        Row(.firstHandshakeHalfway, .errorReplyWithOneWaiting, "handshakeRefused(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))",
            downWaiting),
        // No handshake at all: ready as soon as the connect completes.
        // (The handshake deadline must not outlive it: a command sent once ready may have an earlier deadline.)
        Row(.emptyHandshakeConnecting, .connectOK, "becameReady(deadline: JustGateRedis.RedisConnectionStateMachine.DeadlineChange.cancel)", .ready,
            also: { !$0.deadlineArmed }),
        Row(.emptyHandshakeConnecting, .connectOKWithOneWaiting,
            "becameReady(deadline: JustGateRedis.RedisConnectionStateMachine.DeadlineChange.armOldest)", .ready, also: { $0.deadlineArmed }),
        Row(.emptyHandshakeConnecting, .connectRefused, "fail(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))",
            downWaiting),

        // Ready.
        Row(.ready, .submit, "queue(deadline: \(now + 500 * ms), armDeadline: true, flush: true)", .ready, also: { $0.deadlineArmed }),
        Row(.readyWithCommand, .submit, "queue(deadline: \(now + 500 * ms), armDeadline: false, flush: true)", .ready),
        Row(.readyWithCommand, .replyWithOneWaiting, "deliver(deadline: JustGateRedis.RedisConnectionStateMachine.DeadlineChange.cancel)", .ready,
            also: { !$0.deadlineArmed }),
        // An error reply to a command is that command's answer, not a broken connection.
        Row(.readyWithCommand, .errorReplyWithOneWaiting, "deliver(deadline: JustGateRedis.RedisConnectionStateMachine.DeadlineChange.cancel)", .ready),
        Row(.readyWithTwoCommands, .replyWithTwoWaiting, "deliver(deadline: JustGateRedis.RedisConnectionStateMachine.DeadlineChange.armOldest)", .ready,
            also: { $0.deadlineArmed }),
        // A reply nobody asked for: the stream is out of step, the connection is dropped.
        Row(.ready, .reply, "unsolicited(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))", downWaiting),
        Row(.ready, .errorReply, "unsolicited(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))", downWaiting),
        Row(.readyWithCommand, .deadlinePassed, "timedOut(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: true, reconnectAfterMs: 50))",
            downWaiting),
        // The timer fired early: armed again for the oldest command.
        Row(.readyWithCommand, .deadlineNotYet, "rearm(at: \(now + 1))", .ready, also: { $0.deadlineArmed }),
        Row(.ready, .deadlineNothingWaiting, "none", .ready, also: { !$0.deadlineArmed }),
        Row(.ready, .broke, "failAll(reportDown: true, reconnectAfterMs: 50)", downWaiting),
        Row(.ready, .connectRequested, "none", .ready),
        Row(.ready, .connectOK, "flush", .ready),

        // Down after a failure: the reconnect timer runs; commands are refused at once.
        Row(.downAfterFailure, .submit, "refuse", downWaiting),
        Row(.downAfterFailure, .connectRequested, "none", downWaiting),
        Row(.downAfterFailure, .broke, "none", downWaiting),
        Row(.downAfterFailure, .deadlinePassed, "none", downWaiting),
        Row(.downAfterFailure, .reconnectTimerFired, "openSocket(handshakeDeadline: \(later))", reconnectingState,
            also: { $0.attempts == 2 }),
        // Reconnecting: commands are still refused at once (only the first connect makes them wait).
        Row(.reconnecting, .submit, "refuse", connecting),
        // The outage was reported when it began; failed reconnects are not reported again, and wait longer.
        Row(.reconnecting, .socketOpenFailed, "failAll(reportDown: false, reconnectAfterMs: 100)", downWaiting,
            also: { $0.backoffMs == 200 }),
        Row(.reconnecting, .connectRefused, "fail(JustGateRedis.RedisConnectionStateMachine.FailAction.failAll(reportDown: false, reconnectAfterMs: 100))",
            downWaiting),
        Row(.downAgain, .reconnectTimerFired, "openSocket(handshakeDeadline: \(later))", reconnectingState, also: { $0.attempts == 3 }),
    ]

    @Test("(state, event) → (action, next state)", arguments: table)
    func transition(_ row: Row) {
        var machine = row.start.machine
        let action = row.event.apply(to: &machine)
        #expect(action == row.action)
        #expect(machine.state == row.state)
        #expect(row.also(machine))
    }

    @Test("every event on every state is decided without trapping, and keeps the invariants")
    func everyPairIsTotal() {
        for start in Start.allCases {
            for event in Event.allCases {
                let before = start.machine
                var machine = before
                let action = event.apply(to: &machine)
                let pair = "\(start) + \(event) → \(action)"
                // A down connection holds no deadline; attempts only grow, and only by opening a socket.
                if case .down = machine.state { #expect(!machine.deadlineArmed, "\(pair)") }
                #expect(machine.attempts == before.attempts || (machine.attempts == before.attempts + 1 && action.hasPrefix("openSocket")),
                        "\(pair)")
                // Commands are queued only when ready or on the first attempt.
                if action.hasPrefix("queue") {
                    #expect(machine.state == .ready || machine.attempts == 1, "\(pair)")
                }
                // Only a connection that was up or connecting can fail, and it then always reconnects.
                if action.contains("failAll") {
                    #expect(before.state != .down(reconnectScheduled: true) && before.state != .down(reconnectScheduled: false), "\(pair)")
                    #expect(machine.state == .down(reconnectScheduled: true), "\(pair)")
                    #expect(action.contains("reportDown: \(!before.outageReported)"), "\(pair)")
                    #expect(machine.outageReported, "\(pair)")
                }
                // Ready means the outage is over and the backoff starts again.
                if machine.state == .ready && before.state != .ready {
                    #expect(!machine.outageReported && machine.backoffMs == Machine.firstBackoffMs, "\(pair)")
                }
            }
        }
    }

    @Test("the reconnect delay doubles from 50 ms to 2 s and starts over once a connection is ready")
    func backoff() {
        var machine = Machine(handshakeCount: 1, timeoutMs: 100)
        _ = machine.connectRequested(now: 0)
        var delays: [Int] = []
        var reports: [Bool] = []
        for _ in 0..<8 {
            guard case .failAll(let report, let delay) = machine.socketOpenFailed() else { break }
            delays.append(delay)
            reports.append(report)
            _ = machine.reconnectTimerFired(now: 0)
        }
        #expect(delays == [50, 100, 200, 400, 800, 1_600, 2_000, 2_000])
        // One outage, reported once.
        #expect(reports == [true, false, false, false, false, false, false, false])
        _ = machine.replyParsed(isError: false, waiting: 0)
        #expect(machine.state == .ready)
        #expect(machine.connectionBroke() == .failAll(reportDown: true, reconnectAfterMs: 50))
    }

    @Test("a command queued during the first connect waits for the handshake's deadline, then for its own")
    func firstConnectDeadlines() {
        var machine = Machine(handshakeCount: 1, timeoutMs: 2_000)
        // A timeout over a second: the handshake waits for it too.
        #expect(machine.connectRequested(now: 0) == .openSocket(handshakeDeadline: 2_000 * Self.ms))
        #expect(machine.commandSubmitted(now: 10 * Self.ms) == .queue(deadline: 2_010 * Self.ms, armDeadline: false, flush: false))
        #expect(machine.replyParsed(isError: false, waiting: 1) == .keepHandshakeReply(becameReady: true, deadline: .armOldest))
        #expect(machine.replyParsed(isError: false, waiting: 1) == .deliver(deadline: .cancel))
        #expect(!machine.deadlineArmed)
    }
}
