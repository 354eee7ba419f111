#if canImport(Glibc)
import Glibc
#endif
import CLinuxSystem
import JustGateHTTP
import JustGateReactor

/// The HTTP server's half of one event loop: its listening sockets, its connections, their
/// deadlines, the drain, and the handler requests go to. The loop itself (epoll, watchers, timers,
/// the clock) is the reactor's `EventLoop`, which calls this as its driver.
///
/// Confined to the loop's thread; the only way in from outside is the shared stop flag.
final class ServerLoop: EventLoopDriver {
    let loop: EventLoop
    let configuration: ServerConfiguration
    /// This loop's listening sockets; emptied when a drain begins (they are closed then).
    private var listeners: [Int32]
    private let shared: ServerSharedState
    var handler: (any HTTPHandler)?

    private var connections: [Connection?] = []
    private var connectionCount = 0
    /// Connections per peer address, kept only when `maxConnectionsPerPeer` is set (the admin listener).
    private var peerConnections: [String: Int] = [:]
    private var acceptSerial: UInt64 = 0
    /// When the listeners, paused for want of descriptors, are tried again.
    private var listenersPausedUntil: MonotonicInstant?
    private var dateCache = HTTPDateCache()
    private(set) var isDraining = false
    private var drainDeadline = MonotonicInstant(nanoseconds: 0)

    /// One read buffer shared by every connection of the loop: data is copied out only when a
    /// request spans reads.
    let scratch: UnsafeMutableRawBufferPointer
    let maxBufferedInput: Int
    let maxPendingOutput = 256 * 1024
    private(set) var commonHeaders: [HTTPHeader] = []

    init(loop: EventLoop, listeners: [Int32], configuration: ServerConfiguration, shared: ServerSharedState) {
        self.loop = loop
        self.listeners = listeners
        self.configuration = configuration
        self.shared = shared
        self.scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        let limits = configuration.limits
        self.maxBufferedInput = limits.maxRequestLineBytes + limits.maxHeaderBytes + limits.maxBodyBytes + 64 * 1024
    }

    deinit {
        scratch.deallocate()
    }

    /// The time of the current loop turn.
    var now: MonotonicInstant { loop.now }

    // MARK: - Running

    /// Registers the listeners and the wake-up eventfd; a loop that cannot is not started (see
    /// `HTTPServer.start`), never left running deaf.
    func register() throws {
        for listener in listeners { try loop.add(listener, as: .listener, events: .readable) }
        try loop.registerWakeup()
    }

    /// Gives up a loop that failed to start: closes its listeners (its epoll closes with it).
    func abandon() {
        shutdownLoop()
    }

    /// Runs until a stop is requested and the drain is over; `register` must have succeeded.
    func run() {
        defer { shutdownLoop() }
        scheduleSweep()
        loop.run(driver: self)
    }

    func loopAwoke() {
        let before = dateCache.value
        dateCache.refresh()
        if dateCache.value != before { commonHeaders = [HTTPHeader(name: "Date", value: dateCache.value)] }
    }

    func loopShouldEnd() -> Bool {
        if shared.isStopRequested && !isDraining { beginDrain() }
        return isDraining && ((connectionCount == 0 && !(handler?.isBusy ?? false)) || now >= drainDeadline)
    }

    func listenerReady(_ fd: Int32) {
        acceptConnections(from: fd)
    }

    func connectionReady(_ fd: Int32, events ready: IOEvents) {
        guard let connection = connection(for: fd) else { return }
        if !ready.isDisjoint(with: [.readable, .hangup, .error]) { connection.readable() }
        if ready.contains(.writable), connection.phase != .closed { connection.writable() }
    }

    /// Enforces connection deadlines a few times a second (a timer that re-arms itself); cheap even
    /// with 10,000 connections.
    private func scheduleSweep() {
        loop.scheduleTimer(afterMs: 100) { [weak self] in
            guard let self else { return }
            self.sweep()
            self.scheduleSweep()
        }
    }

    private func sweep() {
        if let until = listenersPausedUntil, now >= until { resumeListeners() }
        for case let connection? in connections {
            if let deadline = connection.deadline, deadline <= now { connection.deadlineExpired() }
        }
    }

    // MARK: - Connections

    private func acceptConnections(from listener: Int32) {
        for _ in 0..<64 {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = jg_accept4(listener, &storage, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
            if fd < 0 {
                if errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM { pauseListeners() }
                return
            }
            let peerKey = configuration.maxConnectionsPerPeer != nil
                ? SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sockaddr_storage>.size)).host : nil
            if let peerKey, let cap = configuration.maxConnectionsPerPeer, peerConnections[peerKey, default: 0] >= cap,
               !evictOldestIdle(of: peerKey) {
                refuse(fd, peer: storage, detail: "This address already holds \(cap) busy connections here; finish or close one and retry.")
                continue
            }
            var admitted = shared.acquireConnection()
            if !admitted && configuration.evictIdleWhenFull && evictOldestIdle(of: nil) {
                admitted = shared.acquireConnection()
            }
            guard admitted else {
                refuse(fd, peer: storage)
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            acceptSerial &+= 1
            let connection = Connection(fd: fd, peer: storage, loop: self, serial: acceptSerial, peerKey: peerKey)
            do {
                try loop.add(fd, as: .connection, events: .readable)
            } catch {
                _ = close(fd)
                shared.releaseConnection()
                continue
            }
            store(connection)
        }
    }

    /// Closes this loop's oldest connection with no request in progress (of `peer`, or of anyone), to make
    /// room for a new one; false when every candidate is busy. A linear scan: it runs only on a listener
    /// that asks for it (the admin one, 64 connections) and only when it is full.
    private func evictOldestIdle(of peer: String?) -> Bool {
        var oldest: Connection?
        for case let connection? in connections where connection.isEvictable {
            if let peer, connection.peerKey != peer { continue }
            if let current = oldest, current.serial < connection.serial { continue }
            oldest = connection
        }
        guard let oldest else { return false }
        oldest.close()
        return true
    }

    /// Over the connection limit: a short 503 and close, so the client learns why at once and the
    /// connections already held keep their capacity.
    private func refuse(_ fd: Int32, peer: sockaddr_storage,
                        detail: String = "The gateway is at its connection limit; retry shortly.") {
        var bytes: [UInt8] = []
        let response = configuration.errorResponse(503, detail)
        HTTPResponseWriter.write(response, keepAlive: false, extraHeaders: commonHeaders, into: &bytes)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        _ = close(fd)
        if let handler {
            let address = SocketAddress(storage: peer, length: socklen_t(MemoryLayout<sockaddr_storage>.size)).host
            handler.serverAnswered(ServerAnswer(response: response, method: nil, path: nil, remoteAddress: address,
                                                receivedAtNanos: MonotonicInstant.now().nanoseconds))
        }
    }

    /// Out of descriptors: stop accepting briefly instead of spinning on a listener that stays ready.
    private func pauseListeners() {
        guard listenersPausedUntil == nil else { return }
        listeners.forEach { loop.remove($0) }
        listenersPausedUntil = now.advanced(byMilliseconds: 100)
    }

    /// Re-registers the listeners after a pause; one that epoll still refuses is tried again on the
    /// next pause interval rather than being left silently unwatched (a loop that never accepts again).
    private func resumeListeners() {
        listenersPausedUntil = nil
        guard !isDraining else { return }
        var failed = false
        for listener in listeners {
            do {
                try loop.add(listener, as: .listener, events: .readable)
            } catch let error as SocketError where error.code == EEXIST {
                continue
            } catch {
                failed = true
            }
        }
        if failed { listenersPausedUntil = now.advanced(byMilliseconds: 100) }
    }

    private func store(_ connection: Connection) {
        let slot = Int(connection.fd)
        if slot >= connections.count {
            connections.append(contentsOf: repeatElement(nil, count: slot - connections.count + 1))
        }
        connections[slot] = connection
        connectionCount += 1
        if let key = connection.peerKey { peerConnections[key, default: 0] += 1 }
    }

    private func connection(for fd: Int32) -> Connection? {
        let slot = Int(fd)
        return slot < connections.count ? connections[slot] : nil
    }

    /// Changes what epoll reports for a connection; false when epoll refuses, and the connection,
    /// which would otherwise wait for events that never come, must be closed.
    func setInterest(_ connection: Connection, _ events: IOEvents) -> Bool {
        do {
            try loop.modify(connection.fd, as: .connection, events: events)
            return true
        } catch {
            return false
        }
    }

    func remove(_ connection: Connection) {
        let slot = Int(connection.fd)
        guard slot < connections.count, connections[slot] === connection else { return }
        loop.remove(connection.fd)
        connections[slot] = nil
        connectionCount -= 1
        if let key = connection.peerKey {
            let left = peerConnections[key, default: 1] - 1
            peerConnections[key] = left > 0 ? left : nil
        }
        shared.releaseConnection()
    }

    func screen(_ head: HTTPRequestHead, remoteAddress: String, receivedAtNanos: UInt64) -> HeadScreening {
        handler?.screen(head, remoteAddress: remoteAddress, receivedAtNanos: receivedAtNanos) ?? .proceed(carrying: nil)
    }

    func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
        guard let handler else {
            // Not reached by a request, so nothing is recorded: `handler` is set (`HTTPServer`) before `run` reads
            // the first byte, and `shutdownLoop` clears it only after closing every connection. Kept so a
            // future change to that order answers instead of leaving the client waiting.
            responder.respond(configuration.errorResponse(503, "The gateway is starting or stopping; retry shortly."))
            return
        }
        handler.handle(request, screened: screened, responder: responder)
    }

    // MARK: - Stopping

    /// Stops accepting, closes idle connections, and lets requests in flight finish until the drain deadline.
    ///
    /// The listeners are closed now, not when the loop ends: while a `SO_REUSEPORT` socket stays open the
    /// kernel keeps queueing new connections on it, and in a hand-over (`serve --replace`) those would wait
    /// out the whole drain unaccepted and then be reset. What is already queued is accepted first and served
    /// (one request each); once closed, new connections go to the process that replaces this one.
    private func beginDrain() {
        for listener in listeners {
            loop.remove(listener)
            acceptQueued(on: listener)
            _ = close(listener)
        }
        listeners = []
        isDraining = true
        let timeoutMs = max(0, configuration.drainTimeoutMs)
        drainDeadline = now.advanced(byMilliseconds: timeoutMs)
        // Wakes the loop at the deadline, so the drain ends on time even with no event.
        loop.scheduleTimer(afterMs: timeoutMs) {}
        for case let connection? in connections { connection.closeIfIdle() }
        handler?.drainBegan()
    }

    /// Accepts until the listener's queue is empty (or descriptors run out).
    private func acceptQueued(on listener: Int32) {
        var before = -1
        while connectionCount != before {
            before = connectionCount
            acceptConnections(from: listener)
        }
    }

    private func shutdownLoop() {
        handler?.loopEnding()
        for case let connection? in connections { connection.close() }
        handler = nil
        listeners.forEach { _ = close($0) }
        // The wake-up eventfd is not closed here: `HTTPServer.stop` may still be writing to it,
        // and a closed number can be reused at once by another socket in the process, which would
        // then receive the wake-up bytes. The server closes it after joining this thread.
    }
}
