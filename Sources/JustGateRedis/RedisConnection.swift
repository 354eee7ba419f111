#if canImport(Glibc)
import Glibc
#endif
import JustGateReactor

/// Where a connection goes, already resolved: the loop never waits on DNS.
public enum RedisTarget: Sendable, Equatable {
    case inet(SocketAddress)
    case unix(path: String)
}

/// Why a command got no reply.
public enum RedisFailure: Error, Equatable {
    /// Not connected (never yet, or reconnecting after a failure).
    case unavailable(String)
    /// No reply within the timeout; the connection is dropped, since a late reply would be read as
    /// the answer to a later command.
    case timedOut
    /// The connection broke or the bytes were not RESP.
    case broken(String)
}

/// One pipelined Redis connection owned by one event loop: commands are written as they come,
/// several may be in flight, and replies are matched to them in order, as RESP guarantees. The
/// socket is non-blocking and watched by the loop's epoll set, so a slow or dead Redis costs a
/// request at most `timeoutMs`, never a stalled loop.
///
/// After a failure every queued command fails at once, and the connection retries in the
/// background with backoff, so callers can fall back immediately and return when it is back.
public final class RedisConnection {
    public enum State: Equatable {
        case connecting
        case ready
        case down
    }

    private let loop: EventLoop
    private let target: RedisTarget
    /// Commands sent first on every new connection (AUTH, SELECT, SCRIPT LOAD); each must not fail.
    private let handshake: [[String]]
    private let timeoutMs: Int
    private let onStateChange: (State, String?) -> Void
    /// Every decision (queue or refuse, which deadline runs, when to report, when to reconnect); this class
    /// performs what it returns.
    private var machine: RedisConnectionStateMachine

    /// What the owner sees of the machine's state.
    public var state: State {
        switch machine.state {
        case .down: return .down
        case .connecting: return .connecting
        case .ready: return .ready
        }
    }

    private var fd: Int32 = -1
    private var output: [UInt8] = []
    private var input: [UInt8] = []
    private var inputStart = 0
    private var parser = RESPParser()
    private struct Pending {
        var deadline: MonotonicInstant
        var completion: (Result<RESPValue, RedisFailure>) -> Void
    }
    private var pending: [Pending] = []
    private var pendingStart = 0
    private var deadlineTimer: Int?
    private var reconnectTimer: Int?
    /// Handshake replies, in order, for the owner (the SCRIPT LOAD digest).
    public private(set) var handshakeReplies: [RESPValue] = []

    /// - Parameter parser: the reply limits; the outbox's replies carry whole entries, larger than the
    ///   limiter's default allows.
    public init(loop: EventLoop, target: RedisTarget, handshake: [[String]], timeoutMs: Int,
                parser: RESPParser = RESPParser(), onStateChange: @escaping (State, String?) -> Void) {
        self.parser = parser
        self.loop = loop
        self.target = target
        self.handshake = handshake
        self.timeoutMs = timeoutMs
        self.onStateChange = onStateChange
        self.machine = RedisConnectionStateMachine(handshakeCount: handshake.count, timeoutMs: timeoutMs)
    }

    deinit {
        if let deadlineTimer { loop.cancelTimer(deadlineTimer) }
        if let reconnectTimer { loop.cancelTimer(reconnectTimer) }
        closeSocket()
    }

    /// Whether `send` would queue a command now rather than fail it at once: when connected, and
    /// during the very first connection attempt (so the gateway's first requests are counted in
    /// Redis, not waved through by the fallback), but not while reconnecting after a failure.
    public var acceptsCommands: Bool { machine.acceptsCommands }

    /// Commands sent whose reply has not come yet (a stopping loop waits for them).
    public var waitingReplies: Int { pending.count - pendingStart }

    /// Starts connecting (no-op unless down).
    public func connect() {
        perform(machine.connectRequested(now: now()))
    }

    /// The loop's clock (the system's, or a test's), in the machine's monotonic nanoseconds.
    private func now() -> UInt64 { loop.clock.now().nanoseconds }

    /// Opens the socket the machine asked for and writes the handshake into the output; a socket that
    /// cannot be opened or connected at once is a failure like any other (reported, retried).
    private func perform(_ action: RedisConnectionStateMachine.ConnectAction) {
        guard case .openSocket(let handshakeDeadline) = action else { return }
        let socketFD: Int32
        switch target {
        case .inet(let address):
            socketFD = socket(address.addressFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        case .unix:
            socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        guard socketFD >= 0 else {
            perform(machine.socketOpenFailed(), .broken("socket: \(String(cString: strerror(errno)))"))
            return
        }
        fd = socketFD
        if case .inet = target {
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let result = connectSocket()
        guard result == 0 || errno == EINPROGRESS || errno == EAGAIN else {
            perform(machine.socketOpenFailed(), .broken("connect: \(String(cString: strerror(errno)))"))
            return
        }
        output.removeAll(keepingCapacity: true)
        for command in handshake { RESPEncoder.append(command: command, to: &output) }
        handshakeReplies = []
        armDeadline(MonotonicInstant(nanoseconds: handshakeDeadline))
        loop.watch(fd, events: [.readable, .writable], ready)
    }

    private func connectSocket() -> Int32 {
        switch target {
        case .inet(let address):
            return address.withSockaddr { Glibc.connect(fd, $0, $1) }
        case .unix(let path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            guard bytes.count < capacity else {
                errno = ENAMETOOLONG
                return -1
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            return withUnsafePointer(to: address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
        }
    }

    /// Sends one command; `completion` runs on this loop exactly once.
    public func send(_ command: [String], completion: @escaping (Result<RESPValue, RedisFailure>) -> Void) {
        enqueue(completion) { RESPEncoder.append(command: command, to: &$0) }
    }

    /// Sends one command whose arguments are bytes (the idempotency store's answers); as `send`.
    public func send(bytes command: [[UInt8]], completion: @escaping (Result<RESPValue, RedisFailure>) -> Void) {
        enqueue(completion) { RESPEncoder.append(command: command, to: &$0) }
    }

    private func enqueue(_ completion: @escaping (Result<RESPValue, RedisFailure>) -> Void,
                         encode: (inout [UInt8]) -> Void) {
        switch machine.commandSubmitted(now: now()) {
        case .refuse:
            completion(.failure(.unavailable("Redis is not connected")))
        case .queue(let deadline, let armDeadline, let flushNow):
            encode(&output)
            let instant = MonotonicInstant(nanoseconds: deadline)
            pending.append(Pending(deadline: instant, completion: completion))
            if armDeadline { self.armDeadline(instant) }
            if flushNow { flush() }
        }
    }

    // MARK: - Events

    private lazy var ready: (Int32, IOEvents) -> Void = { [unowned self] _, events in
        if events.contains(.writable) && self.machine.awaitsConnectResult {
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(self.fd, SOL_SOCKET, SO_ERROR, &error, &length)
            switch self.machine.connectCompleted(socketError: error != 0, waiting: self.pending.count - self.pendingStart) {
            case .flush:
                break
            case .becameReady(let deadline):
                self.onStateChange(.ready, nil)
                self.apply(deadline)
            case .fail(let action):
                self.perform(action, .broken("connect: \(String(cString: strerror(error)))"))
                return
            }
        }
        if events.contains(.writable) { self.flush() }
        if self.fd >= 0 && !events.isDisjoint(with: [.readable, .hangup, .error]) { self.readReplies() }
    }

    private func flush() {
        while !output.isEmpty && fd >= 0 {
            let written = output.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                output.removeFirst(written)
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                break
            } else {
                perform(machine.connectionBroke(), .broken("write: \(String(cString: strerror(errno)))"))
                return
            }
        }
        guard fd >= 0 else { return }
        loop.watch(fd, events: output.isEmpty ? .readable : [.readable, .writable], ready)
    }

    private func readReplies() {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while fd >= 0 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                input.append(contentsOf: chunk[0..<count])
                if count < chunk.count { break }
            } else if count == 0 {
                perform(machine.connectionBroke(), .broken("Redis closed the connection"))
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                perform(machine.connectionBroke(), .broken("read: \(String(cString: strerror(errno)))"))
                return
            }
        }
        deliverReplies()
    }

    private func deliverReplies() {
        while fd >= 0 && inputStart < input.count {
            let start = inputStart
            let parsed: (value: RESPValue, consumed: Int)?
            do {
                parsed = try input.withUnsafeBytes { raw in
                    try parser.parse(UnsafeRawBufferPointer(rebasing: raw[start...]))
                }
            } catch {
                perform(machine.connectionBroke(), .broken("not a Redis reply: \(error)"))
                return
            }
            guard let (value, consumed) = parsed else { break }
            inputStart += consumed
            deliver(value)
        }
        if inputStart == input.count {
            input.removeAll(keepingCapacity: true)
            inputStart = 0
        }
    }

    private func deliver(_ value: RESPValue) {
        var isError = false
        if case .error = value { isError = true }
        switch machine.replyParsed(isError: isError, waiting: pending.count - pendingStart) {
        case .ignore:
            break
        case .keepHandshakeReply(let becameReady, let deadline):
            handshakeReplies.append(value)
            if becameReady {
                onStateChange(.ready, nil)
                apply(deadline)
                flush()
            }
        case .handshakeRefused(let action):
            var text = ""
            if case .error(let message) = value { text = message }
            perform(action, .broken("Redis refused the connection set-up: \(text) (\(RedisErrorKind(errorText: text)))"))
        case .unsolicited(let action):
            perform(action, .broken("a reply nobody asked for"))
        case .deliver(let deadline):
            let entry = pending[pendingStart]
            pendingStart += 1
            if pendingStart == pending.count {
                pending.removeAll(keepingCapacity: true)
                pendingStart = 0
            }
            apply(deadline)
            entry.completion(.success(value))
        }
    }

    // MARK: - Deadlines and failure

    private func armDeadline(_ deadline: MonotonicInstant) {
        if let deadlineTimer { loop.cancelTimer(deadlineTimer) }
        deadlineTimer = loop.scheduleTimer(afterMs: Int(loop.clock.now().milliseconds(until: deadline))) { [weak self] in
            guard let self else { return }
            self.deadlineTimer = nil
            self.deadlineFired()
        }
    }

    /// Moves the deadline timer as the machine decided after a reply (or after becoming ready).
    private func apply(_ change: RedisConnectionStateMachine.DeadlineChange) {
        switch change {
        case .keep:
            break
        case .armOldest:
            // The oldest command has the earliest deadline: replies come in order.
            armDeadline(pending[pendingStart].deadline)
        case .cancel:
            if let deadlineTimer { loop.cancelTimer(deadlineTimer) }
            deadlineTimer = nil
        }
    }

    /// The deadline timer fired: the machine decides between nothing, again later, and timed out.
    private func deadlineFired() {
        let oldest = pendingStart < pending.count ? pending[pendingStart].deadline.nanoseconds : nil
        switch machine.deadlineFired(now: now(), oldestDeadline: oldest) {
        case .none:
            break
        case .rearm(let at):
            armDeadline(MonotonicInstant(nanoseconds: at))
        case .timedOut(let action):
            perform(action, .timedOut)
        }
    }

    /// Performs a failure the machine decided: everything waiting fails with `failure`, the outage is
    /// reported (once per outage), and a reconnect is scheduled.
    private func perform(_ action: RedisConnectionStateMachine.FailAction, _ failure: RedisFailure) {
        guard case .failAll(let reportDown, let reconnectAfterMs) = action else { return }
        closeSocket()
        let waiting = pending[pendingStart...]
        pending = []
        pendingStart = 0
        output.removeAll(keepingCapacity: true)
        input.removeAll(keepingCapacity: true)
        inputStart = 0
        if let deadlineTimer { loop.cancelTimer(deadlineTimer) }
        deadlineTimer = nil
        if reportDown {
            let reason: String
            switch failure {
            case .timedOut: reason = "no reply within \(timeoutMs) ms"
            case .broken(let text), .unavailable(let text): reason = text
            }
            onStateChange(.down, reason)
        }
        if let reconnectTimer { loop.cancelTimer(reconnectTimer) }
        reconnectTimer = loop.scheduleTimer(afterMs: reconnectAfterMs) { [weak self] in
            guard let self else { return }
            self.reconnectTimer = nil
            self.perform(self.machine.reconnectTimerFired(now: self.now()))
        }
        for entry in waiting { entry.completion(.failure(failure)) }
    }

    private func closeSocket() {
        guard fd >= 0 else { return }
        loop.forget(fd)
        _ = close(fd)
        fd = -1
    }
}
