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
    public private(set) var state: State = .down
    /// Connection attempts made so far.
    private var attempts = 0
    /// Whether the current outage (since the last `.ready`) has been reported.
    private var outageReported = false

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
    private var backoffMs = 50
    /// Handshake replies still to come on this connection.
    private var handshakeRemaining = 0
    /// Commands queued while a first connection is being set up wait at least until this.
    private var handshakeDeadline = MonotonicInstant(nanoseconds: 0)
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
    }

    deinit {
        if let deadlineTimer { loop.cancelTimer(deadlineTimer) }
        if let reconnectTimer { loop.cancelTimer(reconnectTimer) }
        closeSocket()
    }

    /// Whether `send` would queue a command now rather than fail it at once: when connected, and
    /// during the very first connection attempt (so the gateway's first requests are counted in
    /// Redis, not waved through by the fallback), but not while reconnecting after a failure.
    public var acceptsCommands: Bool {
        state == .ready || (state == .connecting && attempts == 1)
    }

    /// Starts connecting (no-op unless down).
    public func connect() {
        guard state == .down, reconnectTimer == nil else { return }
        attempts += 1
        let socketFD: Int32
        switch target {
        case .inet(let address):
            socketFD = socket(address.addressFamily, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        case .unix:
            socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        guard socketFD >= 0 else {
            fail(.broken("socket: \(String(cString: strerror(errno)))"))
            return
        }
        fd = socketFD
        if case .inet = target {
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let result = connectSocket()
        guard result == 0 || errno == EINPROGRESS || errno == EAGAIN else {
            fail(.broken("connect: \(String(cString: strerror(errno)))"))
            return
        }
        setState(.connecting, nil)
        output.removeAll(keepingCapacity: true)
        for command in handshake { RESPEncoder.append(command: command, to: &output) }
        handshakeRemaining = handshake.count
        handshakeReplies = []
        // The handshake replies count against the same deadline as any command.
        handshakeDeadline = MonotonicInstant.now().advanced(byMilliseconds: max(timeoutMs, 1000))
        armDeadline(handshakeDeadline)
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
        guard acceptsCommands else {
            completion(.failure(.unavailable("Redis is not connected")))
            return
        }
        encode(&output)
        var deadline = MonotonicInstant.now().advanced(byMilliseconds: timeoutMs)
        if state != .ready { deadline = max(deadline, handshakeDeadline) }
        pending.append(Pending(deadline: deadline, completion: completion))
        if deadlineTimer == nil { armDeadline(deadline) }
        if state == .ready { flush() }
    }

    // MARK: - Events

    private lazy var ready: (Int32, IOEvents) -> Void = { [unowned self] _, events in
        if self.state == .connecting && events.contains(.writable) && self.handshakeRemaining == self.handshake.count {
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(self.fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 {
                self.fail(.broken("connect: \(String(cString: strerror(error)))"))
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
                fail(.broken("write: \(String(cString: strerror(errno)))"))
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
                fail(.broken("Redis closed the connection"))
                return
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else {
                fail(.broken("read: \(String(cString: strerror(errno)))"))
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
                fail(.broken("not a Redis reply: \(error)"))
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
        if handshakeRemaining > 0 {
            handshakeRemaining -= 1
            if case .error(let text) = value {
                fail(.broken("Redis refused the connection set-up: \(text)"))
                return
            }
            handshakeReplies.append(value)
            if handshakeRemaining == 0 {
                backoffMs = 50
                setState(.ready, nil)
                rearmDeadline()
                flush()
            }
            return
        }
        guard pendingStart < pending.count else {
            fail(.broken("a reply nobody asked for"))
            return
        }
        let entry = pending[pendingStart]
        pendingStart += 1
        if pendingStart == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingStart = 0
        }
        rearmDeadline()
        entry.completion(.success(value))
    }

    // MARK: - Deadlines and failure

    private func armDeadline(_ deadline: MonotonicInstant) {
        if let deadlineTimer { loop.cancelTimer(deadlineTimer) }
        deadlineTimer = loop.scheduleTimer(afterMs: Int(MonotonicInstant.now().milliseconds(until: deadline))) { [weak self] in
            guard let self else { return }
            self.deadlineTimer = nil
            self.checkDeadline()
        }
    }

    /// The oldest command has the earliest deadline: replies come in order.
    private func rearmDeadline() {
        if handshakeRemaining > 0 { return }
        if pendingStart < pending.count {
            armDeadline(pending[pendingStart].deadline)
        } else if let deadlineTimer {
            loop.cancelTimer(deadlineTimer)
            self.deadlineTimer = nil
        }
    }

    private func checkDeadline() {
        let now = MonotonicInstant.now()
        if handshakeRemaining > 0 && state == .connecting {
            fail(.timedOut)
            return
        }
        guard pendingStart < pending.count else { return }
        if pending[pendingStart].deadline <= now {
            fail(.timedOut)
        } else {
            armDeadline(pending[pendingStart].deadline)
        }
    }

    private func fail(_ failure: RedisFailure) {
        closeSocket()
        let waiting = pending[pendingStart...]
        pending = []
        pendingStart = 0
        output.removeAll(keepingCapacity: true)
        input.removeAll(keepingCapacity: true)
        inputStart = 0
        handshakeRemaining = 0
        if let deadlineTimer { loop.cancelTimer(deadlineTimer) }
        deadlineTimer = nil
        let reason: String
        switch failure {
        case .timedOut: reason = "no reply within \(timeoutMs) ms"
        case .broken(let text), .unavailable(let text): reason = text
        }
        setState(.down, reason)
        scheduleReconnect()
        for entry in waiting { entry.completion(.failure(failure)) }
    }

    private func scheduleReconnect() {
        guard reconnectTimer == nil else { return }
        reconnectTimer = loop.scheduleTimer(afterMs: backoffMs) { [weak self] in
            guard let self else { return }
            self.reconnectTimer = nil
            self.connect()
        }
        backoffMs = min(backoffMs * 2, 2000)
    }

    private func closeSocket() {
        guard fd >= 0 else { return }
        loop.forget(fd)
        _ = close(fd)
        fd = -1
    }

    /// Reports `.ready` each time a connection is set up and `.down` once per outage (not for
    /// every failed reconnection attempt), so the owner's log says each switch once.
    private func setState(_ new: State, _ reason: String?) {
        guard new != state else { return }
        state = new
        switch new {
        case .ready:
            outageReported = false
            onStateChange(.ready, nil)
        case .down where !outageReported:
            outageReported = true
            onStateChange(.down, reason)
        case .down, .connecting:
            break
        }
    }
}
