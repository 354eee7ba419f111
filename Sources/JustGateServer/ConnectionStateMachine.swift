/// The HTTP/1.1 life of one server connection as a value: which phase it is in, whether it is kept alive,
/// which deadline runs, whether it waits to read or to write. Each event the connection meets (a head parsed,
/// an answer ready, the socket full or drained, the peer's EOF, a deadline passed, a drain begun) is a
/// `mutating func` that moves the state on and returns what the connection must now do.
///
/// Why a value and not flags on the connection: the connection (`Connection`) is the edge that reads, writes,
/// parses and closes; every decision about what comes next is made here, without a socket (this file imports
/// nothing), so a table of (state, event) → (action, next state) tests all of them
/// (`ConnectionStateMachineTests`). Modelled on swift-nio's and async-http-client's connection state machines.
/// It lives beside `Connection`, not in JustGateHTTP, so the release build inlines its events into the
/// connection's (one module, whole-module optimisation): no call per event on the hot path.
///
/// Cheap on purpose (it runs several times per request on the hot path, and 10,000 idle connections hold one
/// each): a few words of plain stored properties, actions are enums with at most two `Bool`s, nothing
/// allocates. Times are monotonic nanoseconds (the event loop's clock) passed in by the caller, so the machine
/// reads no clock; it keeps which deadline runs and when it was armed, and the timeouts stay with the caller
/// (one copy per loop, not one per connection).
struct ConnectionStateMachine: Equatable, Sendable {
    enum Phase: Equatable, Sendable {
        /// Between requests: no byte of the next request has arrived.
        case idle
        case readingHead
        case readingBody
        /// The request went to the handler; the connection waits for its answer and reads nothing more.
        case awaitingResponse
        /// A final response is being written; the connection closes once it is out.
        case closing
        /// Write side shut, draining what the client still sends so our last answer is not lost to a reset.
        case lingering
        case closed
    }

    /// Which deadline runs, and so what its passing means (`timerFired`).
    enum Timer: Equatable, Sendable { case none, firstByte, idle, header, body, write, linger }

    /// The limits the deadlines are measured with, in milliseconds.
    struct Timeouts: Equatable, Sendable {
        /// How long a new connection may stay silent; nil uses `idleMs`.
        var firstByteMs: Int?
        var idleMs: Int
        var headerMs: Int
        var bodyMs: Int
        /// How long a closing connection drains what the client still sends.
        var lingerMs: Int

        init(firstByteMs: Int?, idleMs: Int, headerMs: Int, bodyMs: Int, lingerMs: Int = 2_000) {
            self.firstByteMs = firstByteMs
            self.idleMs = idleMs
            self.headerMs = headerMs
            self.bodyMs = bodyMs
            self.lingerMs = lingerMs
        }
    }

    private(set) var phase: Phase = .idle
    /// Bumped for every request handed on, so an answer can tell whether it still belongs to the live request.
    private(set) var generation: UInt64 = 0
    /// The request being read or answered lets the connection stay open after its answer.
    private(set) var keepAlive = true
    /// The request being answered is a HEAD: its answer states the body's length but carries no body, or a
    /// keep-alive client would read that body as the next response (RFC 9110 §9.3.2).
    private(set) var answeringHead = false
    /// An answer made mid-stream (an error, a refusal from the head): the client may still be sending, so the
    /// connection lingers before closing.
    private(set) var lingerOnClose = false
    /// The client's EOF came while the last answer was still being written.
    private(set) var peerGone = false
    /// The server drains: every answer from now on is the connection's last.
    private(set) var draining: Bool
    private(set) var wantsReadable = true
    private(set) var wantsWritable = false
    private(set) var timer: Timer = .none
    /// When `timer` was armed, in monotonic nanoseconds.
    private(set) var armedAt: UInt64 = 0

    /// A connection just accepted at `now`: idle, with the first-byte deadline (or the idle one) running.
    init(timeouts: Timeouts, draining: Bool = false, now: UInt64) {
        self.draining = draining
        arm(timeouts.firstByteMs != nil ? .firstByte : .idle, now: now)
    }

    /// When `timer` passes (monotonic nanoseconds), measured with `timeouts`: at least 1 ms after it was
    /// armed. Nil when nothing is timed.
    func deadlineNanos(_ timeouts: Timeouts) -> UInt64? {
        let timeoutMs: Int
        switch timer {
        case .none: return nil
        case .firstByte: timeoutMs = timeouts.firstByteMs ?? timeouts.idleMs
        case .idle, .write: timeoutMs = timeouts.idleMs
        case .header: timeoutMs = timeouts.headerMs
        case .body: timeoutMs = timeouts.bodyMs
        case .linger: timeoutMs = timeouts.lingerMs
        }
        return armedAt &+ UInt64(max(1, timeoutMs)) &* 1_000_000
    }

    var isClosed: Bool { phase == .closed }

    /// No request is in progress and no answer is still being written: closing the connection (to make room
    /// for another) loses nothing.
    func isEvictable(outputPending: Bool) -> Bool {
        (phase == .idle || phase == .readingHead) && !outputPending
    }

    /// What to wait for on the socket. Reading pauses while `inputBacklogFull` (the client sends faster than
    /// requests are answered), except when lingering, which only discards.
    func interest(inputBacklogFull: Bool) -> (readable: Bool, writable: Bool) {
        (wantsReadable && (phase == .lingering || !inputBacklogFull), wantsWritable)
    }

    // MARK: - Reading

    /// Bytes arrived: a lingering connection throws them away, any other keeps them for the parser.
    var discardsInput: Bool { phase == .lingering }

    enum EOFAction: Equatable, Sendable {
        case close
        /// Reading is over; keep writing the last answer, then close.
        case finishWriting
    }

    /// The client closed its side.
    mutating func peerClosed(outputPending: Bool) -> EOFAction {
        guard phase == .closing, outputPending else { return .close }
        peerGone = true
        wantsReadable = false
        return .finishWriting
    }

    enum ProcessStep: Equatable, Sendable {
        /// Nothing to do until more bytes arrive or the answer is written.
        case wait
        /// Nothing buffered between requests: the input buffer may be emptied.
        case compactInput
        /// Feed the head parser; `startsRequest` when these are the request's first bytes (note the time).
        case parseHead(startsRequest: Bool)
        case readBody
    }

    /// What to do with buffered input now.
    mutating func nextStep(inputBuffered: Bool, outputBacklogged: Bool, now: UInt64) -> ProcessStep {
        if outputBacklogged { return .wait }
        switch phase {
        case .idle:
            guard inputBuffered else { return .compactInput }
            phase = .readingHead
            answeringHead = false
            arm(.header, now: now)
            return .parseHead(startsRequest: true)
        case .readingHead:
            return inputBuffered ? .parseHead(startsRequest: false) : .compactInput
        case .readingBody:
            return .readBody
        case .awaitingResponse, .closing, .lingering, .closed:
            return .wait
        }
    }

    enum HeadAction: Equatable, Sendable {
        /// No body: hand the request on now (the machine is awaiting its response).
        case dispatch
        /// A body follows: ask the handler's screen first (`screenAnswered` or `screenPassed`).
        case screen
        /// No head was being read (the connection parses only when `nextStep` says so, so this is never met).
        case ignore
    }

    /// A complete head was parsed.
    mutating func headParsed(keepAlive: Bool, isHeadRequest: Bool, hasBody: Bool) -> HeadAction {
        guard phase == .readingHead else { return .ignore }
        self.keepAlive = keepAlive
        answeringHead = isHeadRequest
        guard hasBody else {
            requestRead()
            return .dispatch
        }
        return .screen
    }

    /// The screen answered from the head: the body is not read, the answer goes out with `Connection: close`
    /// and the connection lingers. The answer follows as `answerReady`.
    mutating func screenAnswered() {
        guard phase == .readingHead else { return }
        awaitResponse()
        keepAlive = false
        lingerOnClose = true
    }

    /// The screen let the request through: read its body. `100 Continue` is sent only to an HTTP/1.1 client
    /// that asked for it and has not started sending the body anyway.
    mutating func screenPassed(expectsContinue: Bool, bodyBytesBuffered: Bool, now: UInt64) -> Bool {
        guard phase == .readingHead else { return false }
        phase = .readingBody
        arm(.body, now: now)
        return expectsContinue && !bodyBytesBuffered
    }

    /// The body is complete: hand the request on (the machine is awaiting its response).
    mutating func bodyRead() {
        guard phase == .readingBody else { return }
        requestRead()
    }

    private mutating func requestRead() {
        awaitResponse()
        if draining { keepAlive = false }
    }

    private mutating func awaitResponse() {
        phase = .awaitingResponse
        generation &+= 1
        arm(.none, now: 0)
    }

    // MARK: - Answering

    enum AnswerAction: Equatable, Sendable {
        /// No request awaits an answer (a late or second one): drop it.
        case ignore
        /// Serialise the answer, then flush.
        case write(keepAlive: Bool, omitBody: Bool)
    }

    /// The handler (or the screen) answered the request in flight.
    mutating func answerReady(now: UInt64) -> AnswerAction {
        guard phase == .awaitingResponse else { return .ignore }
        // An answer finished while the server drains is the connection's last: the drain waits for
        // connections to close, not for idle keep-alive ones to time out.
        if draining { keepAlive = false }
        if keepAlive {
            phase = .idle
            arm(.idle, now: now)
        } else {
            phase = .closing
        }
        return .write(keepAlive: keepAlive, omitBody: answeringHead)
    }

    enum ErrorAction: Equatable, Sendable {
        /// The connection is already finishing: nothing more to say.
        case ignore
        /// Write the error answer with `Connection: close`, then flush; the connection then lingers.
        case writeAndClose(omitBody: Bool)
    }

    /// The server found an error itself (malformed HTTP, a body too large, a deadline passed): after it
    /// nothing that follows on this connection can be trusted.
    mutating func errorFound() -> ErrorAction {
        switch phase {
        case .closing, .lingering, .closed:
            return .ignore
        case .idle, .readingHead, .readingBody, .awaitingResponse:
            lingerOnClose = true
            phase = .closing
            return .writeAndClose(omitBody: answeringHead)
        }
    }

    // MARK: - Writing

    /// The socket took less than all pending output: wait for it to be writable, under the write deadline.
    mutating func writeBlocked(now: UInt64) {
        wantsWritable = true
        arm(.write, now: now)
    }

    enum WrittenAction: Equatable, Sendable {
        case none
        case close
        /// Shut the write side and throw away buffered input: the connection lingers, reading and discarding,
        /// so closing with unread input does not make the kernel reset the connection under our last answer.
        case shutdownWriteAndLinger
    }

    /// All pending output is written.
    mutating func writeDrained(inputUnread: Bool, now: UInt64) -> WrittenAction {
        wantsWritable = false
        // The write deadline stood in for the phase's while the client read our answer; the phase's starts
        // over now. (Replacing it with none left a connection that had begun its next request while a large
        // answer was read slowly with no deadline at all.)
        if timer == .write { arm(phaseTimer, now: now) }
        guard phase == .closing else { return .none }
        if peerGone || (!lingerOnClose && !inputUnread) { return .close }
        phase = .lingering
        wantsReadable = true
        arm(.linger, now: now)
        return .shutdownWriteAndLinger
    }

    // MARK: - Time and stopping

    enum TimerAction: Equatable, Sendable {
        case none
        /// Answer 408: the head was not complete in time.
        case headTimedOut
        /// Answer 408: the body was not complete in time.
        case bodyTimedOut
        case close
    }

    /// The running deadline passed (the caller compared `deadlineNanos` with its clock).
    func timerFired() -> TimerAction {
        switch timer {
        case .header: .headTimedOut
        case .body: .bodyTimedOut
        case .firstByte, .idle, .write, .linger: .close
        case .none: .none
        }
    }

    enum DrainAction: Equatable, Sendable { case none, close }

    /// The server began draining. A connection between requests closes (its client opens a new one, to
    /// whichever process listens then). One that has not sent its first request yet is kept: it was accepted
    /// for a request that is on its way; it gets that request, answered with `Connection: close`.
    mutating func drainBegan() -> DrainAction {
        draining = true
        return phase == .idle && generation > 0 ? .close : .none
    }

    enum CloseAction: Equatable, Sendable {
        /// Already closed.
        case none
        /// Close the socket; `cancelRequest` when a handler was still working on an answer nobody will read.
        case close(cancelRequest: Bool)
    }

    /// The connection closes, whatever the reason (EOF, a socket error, a deadline, an eviction, the stop).
    mutating func closeRequested() -> CloseAction {
        guard phase != .closed else { return .none }
        let wasAwaiting = phase == .awaitingResponse
        phase = .closed
        return .close(cancelRequest: wasAwaiting)
    }

    /// The deadline the phase itself runs under (what a write deadline gives way to).
    private var phaseTimer: Timer {
        switch phase {
        case .idle: .idle
        case .readingHead: .header
        case .readingBody: .body
        case .awaitingResponse, .closing, .lingering, .closed: .none
        }
    }

    private mutating func arm(_ kind: Timer, now: UInt64) {
        timer = kind
        armedAt = now
    }
}
