@testable import JustGateServer
import Testing

/// Every (state, event) → (action, next state) of `ConnectionStateMachine` that the server can meet, as one
/// table, like the parser tables: the odd ones included (EOF while the handler runs, a second request
/// pipelined behind the first, a drain while the last answer is still being written).
@Suite("Connection state machine")
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    typealias Phase = Machine.Phase

    static let timeouts = Machine.Timeouts(firstByteMs: nil, idleMs: 60_000, headerMs: 10_000, bodyMs: 20_000)
    /// When the event under test happens: one second after the connection was accepted.
    static let now: UInt64 = 1_000_000_000

    /// The states a table row starts from, each reached by the events a real connection goes through.
    enum Start: String, Sendable {
        case fresh, readingHead, screening, readingBody, awaiting, awaitingHEAD, awaitingClose, awaitingDraining
        case idleAfterAnswer, idleWriteBlocked, headWriteBlocked, bodyWriteBlocked, closingAnswer, closingError, closingBlocked, closingPeerGone
        case lingering, closed

        var machine: Machine {
            var m = Machine(timeouts: ConnectionStateMachineTests.timeouts, now: 0)
            func head(keepAlive: Bool = true, isHead: Bool = false, body: Bool = false) {
                _ = m.nextStep(inputBuffered: true, outputBacklogged: false, now: 0)
                _ = m.headParsed(keepAlive: keepAlive, isHeadRequest: isHead, hasBody: body)
            }
            switch self {
            case .fresh: break
            case .readingHead: _ = m.nextStep(inputBuffered: true, outputBacklogged: false, now: 0)
            case .screening: head(body: true)
            case .readingBody: head(body: true); _ = m.screenPassed(expectsContinue: false, bodyBytesBuffered: true, now: 0)
            case .awaiting: head()
            case .awaitingHEAD: head(isHead: true)
            case .awaitingClose: head(keepAlive: false)
            case .awaitingDraining: head(); _ = m.drainBegan()
            case .idleAfterAnswer: head(); _ = m.answerReady(now: 0); _ = m.writeDrained(inputUnread: false, now: 0)
            case .idleWriteBlocked: head(); _ = m.answerReady(now: 0); m.writeBlocked(now: 0)
            case .headWriteBlocked:
                head(); _ = m.answerReady(now: 0); m.writeBlocked(now: 0)
                _ = m.nextStep(inputBuffered: true, outputBacklogged: false, now: 0)
                m.writeBlocked(now: 0)
            case .bodyWriteBlocked:
                head(); _ = m.answerReady(now: 0); m.writeBlocked(now: 0)
                head(body: true)
                _ = m.screenPassed(expectsContinue: true, bodyBytesBuffered: false, now: 0)
                m.writeBlocked(now: 0)
            case .closingAnswer: head(keepAlive: false); _ = m.answerReady(now: 0)
            case .closingError: _ = m.nextStep(inputBuffered: true, outputBacklogged: false, now: 0); _ = m.errorFound()
            case .closingBlocked: head(keepAlive: false); _ = m.answerReady(now: 0); m.writeBlocked(now: 0)
            case .closingPeerGone: head(keepAlive: false); _ = m.answerReady(now: 0); _ = m.peerClosed(outputPending: true)
            case .lingering:
                _ = m.nextStep(inputBuffered: true, outputBacklogged: false, now: 0)
                _ = m.errorFound()
                _ = m.writeDrained(inputUnread: true, now: 0)
            case .closed: _ = m.closeRequested()
            }
            return m
        }
    }

    enum Event: Sendable {
        case nextStep(input: Bool, backlogged: Bool = false)
        case headParsed(keepAlive: Bool = true, isHead: Bool = false, body: Bool)
        case screenAnswered
        case screenPassed(expectsContinue: Bool, buffered: Bool)
        case bodyRead, answerReady, errorFound, writeBlocked
        case writeDrained(inputUnread: Bool)
        case peerClosed(outputPending: Bool)
        case timerFired, drainBegan, closeRequested

        /// Applies the event at `ConnectionStateMachineTests.now`; the action as text ("—" for events that return none).
        func apply(to m: inout Machine) -> String {
            let now = ConnectionStateMachineTests.now
            switch self {
            case .nextStep(let input, let backlogged): return "\(m.nextStep(inputBuffered: input, outputBacklogged: backlogged, now: now))"
            case .headParsed(let keepAlive, let isHead, let body): return "\(m.headParsed(keepAlive: keepAlive, isHeadRequest: isHead, hasBody: body))"
            case .screenAnswered: m.screenAnswered(); return "—"
            case .screenPassed(let expects, let buffered):
                return m.screenPassed(expectsContinue: expects, bodyBytesBuffered: buffered, now: now) ? "sendContinue" : "read"
            case .bodyRead: m.bodyRead(); return "—"
            case .answerReady: return "\(m.answerReady(now: now))"
            case .errorFound: return "\(m.errorFound())"
            case .writeBlocked: m.writeBlocked(now: now); return "—"
            case .writeDrained(let unread): return "\(m.writeDrained(inputUnread: unread, now: now))"
            case .peerClosed(let pending): return "\(m.peerClosed(outputPending: pending))"
            case .timerFired: return "\(m.timerFired())"
            case .drainBegan: return "\(m.drainBegan())"
            case .closeRequested: return "\(m.closeRequested())"
            }
        }
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let start: Start
        let event: Event
        let action: String
        let phase: Phase
        let timer: Machine.Timer
        /// Anything else the row promises about the next state.
        let also: @Sendable (Machine) -> Bool

        init(_ start: Start, _ event: Event, _ action: String, _ phase: Phase, _ timer: Machine.Timer,
             also: @escaping @Sendable (Machine) -> Bool = { _ in true }) {
            self.start = start
            self.event = event
            self.action = action
            self.phase = phase
            self.timer = timer
            self.also = also
        }

        var testDescription: String { "\(start.rawValue) + \(event) → \(action), \(phase)" }
    }

    static let table: [Row] = [
        // A new connection, nothing read yet.
        Row(.fresh, .nextStep(input: false), "compactInput", .idle, .idle),
        Row(.fresh, .nextStep(input: true), "parseHead(startsRequest: true)", .readingHead, .header,
            also: { !$0.answeringHead }),
        Row(.fresh, .nextStep(input: true, backlogged: true), "wait", .idle, .idle),
        Row(.fresh, .peerClosed(outputPending: false), "close", .idle, .idle),
        Row(.fresh, .timerFired, "close", .idle, .idle),
        // Drained before its first request: kept for the request on its way.
        Row(.fresh, .drainBegan, "none", .idle, .idle, also: { $0.draining }),
        Row(.fresh, .closeRequested, "close(cancelRequest: false)", .closed, .idle),
        Row(.fresh, .answerReady, "ignore", .idle, .idle),

        // Reading the head.
        Row(.readingHead, .nextStep(input: true), "parseHead(startsRequest: false)", .readingHead, .header),
        Row(.readingHead, .nextStep(input: false), "compactInput", .readingHead, .header),
        Row(.readingHead, .headParsed(body: false), "dispatch", .awaitingResponse, .none,
            also: { $0.generation == 1 && $0.keepAlive && $0.deadlineNanos(timeouts) == nil }),
        Row(.readingHead, .headParsed(keepAlive: false, isHead: true, body: false), "dispatch", .awaitingResponse, .none,
            also: { !$0.keepAlive && $0.answeringHead }),
        Row(.readingHead, .headParsed(body: true), "screen", .readingHead, .header, also: { $0.generation == 0 }),
        // A malformed head: answered, then the connection closes (the deadline is left to the flush).
        Row(.readingHead, .errorFound, "writeAndClose(omitBody: false)", .closing, .header, also: { $0.lingerOnClose }),
        Row(.readingHead, .timerFired, "headTimedOut", .readingHead, .header),
        Row(.readingHead, .drainBegan, "none", .readingHead, .header, also: { $0.draining }),
        Row(.readingHead, .peerClosed(outputPending: false), "close", .readingHead, .header),

        // The head announced a body; the screen decides.
        Row(.screening, .screenAnswered, "—", .awaitingResponse, .none,
            also: { $0.generation == 1 && !$0.keepAlive && $0.lingerOnClose }),
        Row(.screening, .screenPassed(expectsContinue: true, buffered: false), "sendContinue", .readingBody, .body),
        // The client did not wait for 100 Continue: no interim answer.
        Row(.screening, .screenPassed(expectsContinue: true, buffered: true), "read", .readingBody, .body),
        Row(.screening, .screenPassed(expectsContinue: false, buffered: false), "read", .readingBody, .body),

        // Reading the body.
        Row(.readingBody, .nextStep(input: true), "readBody", .readingBody, .body),
        Row(.readingBody, .nextStep(input: false), "readBody", .readingBody, .body),
        Row(.readingBody, .bodyRead, "—", .awaitingResponse, .none, also: { $0.generation == 1 }),
        Row(.readingBody, .timerFired, "bodyTimedOut", .readingBody, .body),
        Row(.readingBody, .errorFound, "writeAndClose(omitBody: false)", .closing, .body, also: { $0.lingerOnClose }),

        // The handler runs.
        // A second request pipelined behind the first stays buffered until the first is answered.
        Row(.awaiting, .nextStep(input: true), "wait", .awaitingResponse, .none),
        Row(.awaiting, .answerReady, "write(keepAlive: true, omitBody: false)", .idle, .idle),
        Row(.awaitingHEAD, .answerReady, "write(keepAlive: true, omitBody: true)", .idle, .idle),
        Row(.awaitingClose, .answerReady, "write(keepAlive: false, omitBody: false)", .closing, .none),
        // EOF while the handler runs: the connection closes and the handler's work is cancelled.
        Row(.awaiting, .peerClosed(outputPending: false), "close", .awaitingResponse, .none),
        Row(.awaiting, .closeRequested, "close(cancelRequest: true)", .closed, .none),
        Row(.awaiting, .timerFired, "none", .awaitingResponse, .none),
        // A drain during the handler: its answer is the connection's last.
        Row(.awaiting, .drainBegan, "none", .awaitingResponse, .none, also: { $0.draining }),
        Row(.awaitingDraining, .answerReady, "write(keepAlive: false, omitBody: false)", .closing, .none),

        // Answered, kept alive.
        Row(.idleAfterAnswer, .nextStep(input: true), "parseHead(startsRequest: true)", .readingHead, .header),
        Row(.idleAfterAnswer, .nextStep(input: false), "compactInput", .idle, .idle),
        Row(.idleAfterAnswer, .answerReady, "ignore", .idle, .idle),
        Row(.idleAfterAnswer, .timerFired, "close", .idle, .idle),
        Row(.idleAfterAnswer, .drainBegan, "close", .idle, .idle),
        Row(.idleAfterAnswer, .closeRequested, "close(cancelRequest: false)", .closed, .idle),
        Row(.idleWriteBlocked, .timerFired, "close", .idle, .write),
        Row(.idleWriteBlocked, .writeDrained(inputUnread: false), "none", .idle, .idle, also: { !$0.wantsWritable }),
        // The next request began while a large answer was still being read: once the answer is out, the
        // request's own deadline runs again (it used to be none, so a slow client was never cut off).
        Row(.headWriteBlocked, .writeDrained(inputUnread: true), "none", .readingHead, .header),
        Row(.bodyWriteBlocked, .writeDrained(inputUnread: false), "none", .readingBody, .body),
        Row(.headWriteBlocked, .timerFired, "close", .readingHead, .write),
        // A pipelined request waits while the answer before it is still backed up in the output buffer.
        Row(.idleWriteBlocked, .nextStep(input: true, backlogged: true), "wait", .idle, .write),

        // The last answer is being written.
        Row(.closingAnswer, .writeBlocked, "—", .closing, .write, also: { $0.wantsWritable }),
        Row(.closingAnswer, .writeDrained(inputUnread: false), "close", .closing, .none),
        Row(.closingAnswer, .writeDrained(inputUnread: true), "shutdownWriteAndLinger", .lingering, .linger,
            also: { $0.wantsReadable && !$0.wantsWritable }),
        Row(.closingError, .writeDrained(inputUnread: false), "shutdownWriteAndLinger", .lingering, .linger),
        Row(.closingBlocked, .writeDrained(inputUnread: false), "close", .closing, .none, also: { !$0.wantsWritable }),
        Row(.closingBlocked, .timerFired, "close", .closing, .write),
        // The client's EOF while our last answer is still queued: stop reading, finish writing.
        Row(.closingAnswer, .peerClosed(outputPending: true), "finishWriting", .closing, .none,
            also: { $0.peerGone && !$0.wantsReadable }),
        Row(.closingAnswer, .peerClosed(outputPending: false), "close", .closing, .none),
        Row(.closingPeerGone, .writeDrained(inputUnread: true), "close", .closing, .none),
        Row(.closingAnswer, .errorFound, "ignore", .closing, .none),
        Row(.closingAnswer, .answerReady, "ignore", .closing, .none),
        Row(.closingAnswer, .nextStep(input: true), "wait", .closing, .none),
        // A stop while writing: the answer is finished, nothing is cut.
        Row(.closingBlocked, .drainBegan, "none", .closing, .write, also: { $0.wantsWritable }),
        Row(.closingError, .timerFired, "headTimedOut", .closing, .header),
        Row(.closingError, .errorFound, "ignore", .closing, .header),

        // Lingering: reading only to discard.
        Row(.lingering, .nextStep(input: true), "wait", .lingering, .linger),
        Row(.lingering, .timerFired, "close", .lingering, .linger),
        Row(.lingering, .errorFound, "ignore", .lingering, .linger),
        Row(.lingering, .peerClosed(outputPending: false), "close", .lingering, .linger),
        Row(.lingering, .drainBegan, "none", .lingering, .linger),

        // Events of one phase met in another change nothing (the connection never sends them).
        Row(.awaiting, .headParsed(body: false), "ignore", .awaitingResponse, .none, also: { $0.generation == 1 }),
        Row(.readingBody, .headParsed(body: true), "ignore", .readingBody, .body),
        Row(.awaiting, .screenAnswered, "—", .awaitingResponse, .none, also: { $0.generation == 1 && $0.keepAlive }),
        Row(.awaiting, .screenPassed(expectsContinue: true, buffered: false), "read", .awaitingResponse, .none),
        Row(.readingHead, .bodyRead, "—", .readingHead, .header, also: { $0.generation == 0 }),
        Row(.idleAfterAnswer, .bodyRead, "—", .idle, .idle, also: { $0.generation == 1 }),

        // Closed: everything late is dropped.
        Row(.closed, .closeRequested, "none", .closed, .idle),
        Row(.closed, .answerReady, "ignore", .closed, .idle),
        Row(.closed, .errorFound, "ignore", .closed, .idle),
        Row(.closed, .nextStep(input: true), "wait", .closed, .idle),
        Row(.closed, .drainBegan, "none", .closed, .idle),
        Row(.closed, .headParsed(body: false), "ignore", .closed, .idle),
        Row(.closed, .bodyRead, "—", .closed, .idle),
    ]

    @Test("(state, event) → (action, next state)", arguments: table)
    func transition(_ row: Row) {
        var machine = row.start.machine
        let action = row.event.apply(to: &machine)
        #expect(action == row.action)
        #expect(machine.phase == row.phase)
        #expect(machine.timer == row.timer)
        #expect(row.also(machine))
    }

    @Test("every event on every start state is decided without trapping")
    func everyPairIsTotal() {
        let starts: [Start] = [.fresh, .readingHead, .screening, .readingBody, .awaiting, .awaitingHEAD, .awaitingClose,
                               .awaitingDraining, .idleAfterAnswer, .idleWriteBlocked, .headWriteBlocked, .bodyWriteBlocked, .closingAnswer, .closingError,
                               .closingBlocked, .closingPeerGone, .lingering, .closed]
        let events: [Event] = [.nextStep(input: true), .nextStep(input: false), .headParsed(body: false), .headParsed(body: true),
                               .screenAnswered, .screenPassed(expectsContinue: true, buffered: false),
                               .bodyRead, .answerReady, .errorFound, .writeBlocked, .writeDrained(inputUnread: true),
                               .writeDrained(inputUnread: false), .peerClosed(outputPending: true),
                               .peerClosed(outputPending: false), .timerFired, .drainBegan, .closeRequested]
        for start in starts {
            for event in events {
                let before = start.machine
                var machine = before
                _ = event.apply(to: &machine)
                // A closed connection never reopens, and only reading a request starts the next one.
                if start == .closed { #expect(machine.phase == .closed, "\(start) + \(event)") }
                #expect(machine.generation <= before.generation + 1, "\(start) + \(event)")
                if machine.generation != before.generation {
                    #expect(before.phase == .readingHead || before.phase == .readingBody, "\(start) + \(event)")
                }
            }
        }
    }

    @Test("deadlines run from the event's time for the phase's timeout, at least 1 ms")
    func deadlines() {
        let timeouts = Self.timeouts
        var machine = Machine(timeouts: timeouts, now: 5)
        #expect(machine.deadlineNanos(timeouts) == 5 + 60_000 * 1_000_000)
        _ = machine.nextStep(inputBuffered: true, outputBacklogged: false, now: Self.now)
        #expect(machine.deadlineNanos(timeouts) == Self.now + 10_000 * 1_000_000)
        _ = machine.headParsed(keepAlive: true, isHeadRequest: false, hasBody: true)
        _ = machine.screenPassed(expectsContinue: false, bodyBytesBuffered: false, now: Self.now + 1)
        #expect(machine.deadlineNanos(timeouts) == Self.now + 1 + 20_000 * 1_000_000)
        machine.bodyRead()
        #expect(machine.deadlineNanos(timeouts) == nil)
        _ = machine.answerReady(now: Self.now + 2)
        #expect(machine.deadlineNanos(timeouts) == Self.now + 2 + 60_000 * 1_000_000)
        // Each time the socket fills again the write deadline starts over: a slow reader that keeps taking
        // bytes is not cut off.
        machine.writeBlocked(now: Self.now + 3)
        machine.writeBlocked(now: Self.now + 4)
        #expect(machine.deadlineNanos(timeouts) == Self.now + 4 + 60_000 * 1_000_000)

        let firstByte = Machine.Timeouts(firstByteMs: 2_000, idleMs: 60_000, headerMs: 0, bodyMs: 0)
        let quiet = Machine(timeouts: firstByte, now: 0)
        #expect(quiet.timer == .firstByte && quiet.deadlineNanos(firstByte) == 2_000 * 1_000_000)
        var instant = Machine(timeouts: firstByte, now: 0)
        _ = instant.nextStep(inputBuffered: true, outputBacklogged: false, now: 0)
        #expect(instant.deadlineNanos(firstByte) == 1_000_000)

        var lingering = Start.closingError.machine
        _ = lingering.writeDrained(inputUnread: false, now: Self.now)
        #expect(lingering.deadlineNanos(timeouts) == Self.now + 2_000 * 1_000_000)
    }

    @Test("a connection accepted while the server drains answers its one request with Connection: close")
    func acceptedWhileDraining() {
        var machine = Machine(timeouts: Self.timeouts, draining: true, now: 0)
        _ = machine.nextStep(inputBuffered: true, outputBacklogged: false, now: 0)
        #expect(machine.headParsed(keepAlive: true, isHeadRequest: false, hasBody: false) == .dispatch)
        #expect(!machine.keepAlive)
        #expect(machine.answerReady(now: 0) == .write(keepAlive: false, omitBody: false))
    }

    @Test("reading pauses on a full input backlog, except while lingering; only idle or head-reading connections are evictable")
    func interestAndEviction() {
        let idle = Start.idleAfterAnswer.machine
        #expect(idle.interest(inputBacklogFull: true) == (false, false))
        #expect(idle.interest(inputBacklogFull: false) == (true, false))
        #expect(Start.lingering.machine.interest(inputBacklogFull: true) == (true, false))
        #expect(Start.closingBlocked.machine.interest(inputBacklogFull: false) == (true, true))
        #expect(Start.closingPeerGone.machine.interest(inputBacklogFull: false) == (false, false))
        #expect(Start.lingering.machine.discardsInput)
        #expect(!Start.readingHead.machine.discardsInput)

        #expect(Start.fresh.machine.isEvictable(outputPending: false))
        #expect(Start.readingHead.machine.isEvictable(outputPending: false))
        #expect(!Start.idleWriteBlocked.machine.isEvictable(outputPending: true))
        #expect(!Start.readingBody.machine.isEvictable(outputPending: false))
        #expect(!Start.awaiting.machine.isEvictable(outputPending: false))
    }

    @Test("two pipelined requests are answered in order, each exactly once")
    func pipelinedPair() {
        var machine = Machine(timeouts: Self.timeouts, now: 0)
        #expect(machine.nextStep(inputBuffered: true, outputBacklogged: false, now: 0) == .parseHead(startsRequest: true))
        #expect(machine.headParsed(keepAlive: true, isHeadRequest: false, hasBody: false) == .dispatch)
        let first = machine.generation
        // The second request's bytes are buffered already; nothing happens until the first is answered.
        #expect(machine.nextStep(inputBuffered: true, outputBacklogged: false, now: 0) == .wait)
        #expect(machine.answerReady(now: 0) == .write(keepAlive: true, omitBody: false))
        #expect(machine.answerReady(now: 0) == .ignore)
        #expect(machine.writeDrained(inputUnread: true, now: 0) == .none)
        #expect(machine.nextStep(inputBuffered: true, outputBacklogged: false, now: 0) == .parseHead(startsRequest: true))
        #expect(machine.headParsed(keepAlive: false, isHeadRequest: false, hasBody: false) == .dispatch)
        #expect(machine.generation == first + 1)
        #expect(machine.answerReady(now: 0) == .write(keepAlive: false, omitBody: false))
        #expect(machine.writeDrained(inputUnread: false, now: 0) == .close)
        #expect(machine.closeRequested() == .close(cancelRequest: false))
    }
}
