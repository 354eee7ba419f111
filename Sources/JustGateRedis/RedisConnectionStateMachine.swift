/// The life of one Redis connection as a value: down (waiting to reconnect), connecting (the socket is
/// opening and the handshake's replies are still to come) or ready. Each thing the connection meets (a connect
/// asked for, the socket failing to open, the connect completing, a command submitted, a reply parsed, the
/// connection breaking, a deadline or the reconnect timer firing) is a `mutating func` that moves the state on
/// and returns what `RedisConnection` must now do.
///
/// Why a value and not flags on the connection: the connection is the edge that opens, writes, reads, parses
/// and keeps the completions; every decision about what comes next (whether a command is queued or refused at
/// once, which deadline runs, when an outage is reported, how long to wait before reconnecting) is made here,
/// without a socket or a clock (this file imports nothing), so a table of (state, event) → (action, next state)
/// tests all of them (`RedisConnectionStateMachineTests`). The same shape as the server's
/// `ConnectionStateMachine`.
///
/// Cheap on purpose (it runs once or twice per limited request): a few words of stored properties, actions
/// are small enums, nothing allocates. Times are monotonic nanoseconds passed in by the caller. What the
/// connection keeps itself: the completions and each one's deadline, in order (`waiting` and `oldestDeadline`
/// in the events are read from that queue), the buffers and the timers' ids.
struct RedisConnectionStateMachine: Equatable, Sendable {
    enum State: Equatable, Sendable {
        /// No socket. `reconnectScheduled` while the backoff timer runs (`connectRequested` waits for it).
        case down(reconnectScheduled: Bool)
        /// The socket is opening or open, `handshakeLeft` replies of the handshake still to come; every
        /// command queued now (first attempt only) waits at least until `handshakeDeadline`.
        case connecting(handshakeLeft: Int, handshakeDeadline: UInt64)
        case ready
    }

    /// The first delay before reconnecting, and the longest (it doubles from one to the other).
    static let firstBackoffMs = 50
    static let longestBackoffMs = 2_000

    private(set) var state: State = .down(reconnectScheduled: false)
    /// Connection attempts so far: commands wait through the first one only.
    private(set) var attempts = 0
    /// How long the next reconnect waits; back to `firstBackoffMs` once a connection is ready.
    private(set) var backoffMs = RedisConnectionStateMachine.firstBackoffMs
    /// Whether the current outage (since the last ready) has been reported, so it is reported once.
    private(set) var outageReported = false
    /// Whether a deadline timer runs.
    private(set) var deadlineArmed = false
    /// Commands sent first on every connection (AUTH, SELECT, SCRIPT LOAD).
    let handshakeCount: Int
    /// How long a command may wait for its reply.
    let timeoutMs: Int

    init(handshakeCount: Int, timeoutMs: Int) {
        self.handshakeCount = handshakeCount
        self.timeoutMs = timeoutMs
    }

    /// Whether a command submitted now is queued rather than refused at once: when ready, and during the very
    /// first connection attempt (so the gateway's first requests are counted in Redis, not waved through by the
    /// fallback), but not while reconnecting after a failure.
    var acceptsCommands: Bool {
        switch state {
        case .ready: return true
        case .connecting: return attempts == 1
        case .down: return false
        }
    }

    /// Whether a writable socket should be asked whether the connect worked (`connectCompleted`): connecting and
    /// no handshake reply read yet.
    var awaitsConnectResult: Bool {
        if case .connecting(let left, _) = state { return left == handshakeCount }
        return false
    }

    // MARK: - Connecting

    enum ConnectAction: Equatable, Sendable {
        case none
        /// Open and connect the socket; once open, write the handshake, arm the deadline at `handshakeDeadline`
        /// and watch the socket for reading and writing. If it cannot be opened, `socketOpenFailed`.
        case openSocket(handshakeDeadline: UInt64)
    }

    /// The owner asks to connect (no-op unless down with no reconnect timer running).
    mutating func connectRequested(now: UInt64) -> ConnectAction {
        guard state == .down(reconnectScheduled: false) else { return .none }
        attempts += 1
        // The handshake's replies count against the same deadline as any command, but at least a second.
        let deadline = now &+ UInt64(max(timeoutMs, 1_000)) &* 1_000_000
        state = .connecting(handshakeLeft: handshakeCount, handshakeDeadline: deadline)
        deadlineArmed = true
        return .openSocket(handshakeDeadline: deadline)
    }

    /// The backoff timer fired: connect again.
    mutating func reconnectTimerFired(now: UInt64) -> ConnectAction {
        guard state == .down(reconnectScheduled: true) else { return .none }
        state = .down(reconnectScheduled: false)
        return connectRequested(now: now)
    }

    enum FailAction: Equatable, Sendable {
        case none
        /// Close the socket, drop the buffers, cancel the deadline, fail every waiting command with the failure,
        /// tell the owner `.down` if `reportDown`, and connect again after `reconnectAfterMs`.
        case failAll(reportDown: Bool, reconnectAfterMs: Int)
    }

    /// `socket` or `connect` failed at once.
    mutating func socketOpenFailed() -> FailAction { fail() }

    enum ConnectedAction: Equatable, Sendable {
        /// Write what is buffered (the handshake, and commands queued during the first attempt).
        case flush
        /// No handshake to wait for: ready now (tell the owner, apply `deadline`, then flush).
        case becameReady(deadline: DeadlineChange)
        case fail(FailAction)
    }

    /// A writable socket said whether the connect worked (`SO_ERROR`), while `awaitsConnectResult`; `waiting`
    /// commands were queued meanwhile.
    mutating func connectCompleted(socketError: Bool, waiting: Int) -> ConnectedAction {
        guard awaitsConnectResult else { return .flush }
        if socketError { return .fail(fail()) }
        guard handshakeCount == 0 else { return .flush }
        becomeReady()
        return .becameReady(deadline: rearm(waiting: waiting))
    }

    // MARK: - Commands and replies

    enum SubmitAction: Equatable, Sendable {
        /// Fail the command at once as unavailable (down, or reconnecting after a failure).
        case refuse
        /// Encode the command and queue its completion with `deadline`; arm the deadline timer at `deadline` if
        /// `armDeadline`; write now if `flush` (else it goes out behind the handshake).
        case queue(deadline: UInt64, armDeadline: Bool, flush: Bool)
    }

    /// A command is submitted at `now`.
    mutating func commandSubmitted(now: UInt64) -> SubmitAction {
        guard acceptsCommands else { return .refuse }
        var deadline = now &+ UInt64(max(timeoutMs, 0)) &* 1_000_000
        var flush = true
        if case .connecting(_, let handshakeDeadline) = state {
            deadline = max(deadline, handshakeDeadline)
            flush = false
        }
        let arm = !deadlineArmed
        deadlineArmed = true
        return .queue(deadline: deadline, armDeadline: arm, flush: flush)
    }

    /// What to do with the deadline timer once a reply has been taken.
    enum DeadlineChange: Equatable, Sendable {
        /// Leave it (the handshake's deadline still runs).
        case keep
        /// Arm it at the deadline of the oldest command still waiting (replies come in order, so the oldest
        /// has the earliest deadline).
        case armOldest
        case cancel
    }

    enum ReplyAction: Equatable, Sendable {
        /// Nothing to do (no connection; the connection never parses then).
        case ignore
        /// A handshake reply: keep it for the owner. If `becameReady`, tell the owner, apply `deadline` and flush.
        case keepHandshakeReply(becameReady: Bool, deadline: DeadlineChange)
        /// Redis answered the handshake with an error (a wrong password, an unknown database).
        case handshakeRefused(FailAction)
        /// Hand the reply (error replies included) to the oldest waiting command, after applying `deadline`.
        case deliver(deadline: DeadlineChange)
        /// A reply with no command waiting for it: the stream is out of step.
        case unsolicited(FailAction)
    }

    /// A whole reply was parsed; `waiting` commands were waiting for replies before it.
    mutating func replyParsed(isError: Bool, waiting: Int) -> ReplyAction {
        switch state {
        case .down:
            return .ignore
        case .connecting(let left, let deadline) where left > 0:
            if isError { return .handshakeRefused(fail()) }
            guard left == 1 else {
                state = .connecting(handshakeLeft: left - 1, handshakeDeadline: deadline)
                return .keepHandshakeReply(becameReady: false, deadline: .keep)
            }
            becomeReady()
            return .keepHandshakeReply(becameReady: true, deadline: rearm(waiting: waiting))
        case .connecting, .ready:
            guard waiting > 0 else { return .unsolicited(fail()) }
            return .deliver(deadline: rearm(waiting: waiting - 1))
        }
    }

    /// The bytes were not RESP, Redis closed the connection, or a read or write failed.
    mutating func connectionBroke() -> FailAction { fail() }

    // MARK: - Timers

    enum DeadlineAction: Equatable, Sendable {
        case none
        /// The oldest command's deadline has not passed yet (the timer fired early): arm it again at `at`.
        case rearm(at: UInt64)
        /// The handshake or the oldest command took too long: fail as timed out.
        case timedOut(FailAction)
    }

    /// The deadline timer fired at `now`; `oldestDeadline` is the oldest waiting command's, if any.
    mutating func deadlineFired(now: UInt64, oldestDeadline: UInt64?) -> DeadlineAction {
        deadlineArmed = false
        switch state {
        case .down:
            return .none
        case .connecting(let left, _) where left > 0:
            return .timedOut(fail())
        case .connecting, .ready:
            guard let oldestDeadline else { return .none }
            if oldestDeadline <= now { return .timedOut(fail()) }
            deadlineArmed = true
            return .rearm(at: oldestDeadline)
        }
    }

    // MARK: - Transitions shared by several events

    private mutating func fail() -> FailAction {
        guard case .down = state else {
            let report = !outageReported
            outageReported = true
            state = .down(reconnectScheduled: true)
            deadlineArmed = false
            let delay = backoffMs
            backoffMs = min(backoffMs * 2, Self.longestBackoffMs)
            return .failAll(reportDown: report, reconnectAfterMs: delay)
        }
        return .none
    }

    private mutating func becomeReady() {
        state = .ready
        backoffMs = Self.firstBackoffMs
        outageReported = false
    }

    private mutating func rearm(waiting: Int) -> DeadlineChange {
        deadlineArmed = waiting > 0
        return waiting > 0 ? .armOldest : .cancel
    }
}
