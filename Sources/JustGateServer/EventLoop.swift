#if canImport(Glibc)
import Glibc
#endif
import CLinuxSystem
import JustGateHTTP

/// One thread's epoll loop: its own listening socket, its connections, and whatever else the
/// handler asks it to watch (libcurl's upstream sockets and timers), so a request is accepted,
/// parsed, forwarded and answered without ever changing threads.
///
/// Everything here is confined to the loop's thread; the only ways in from outside are the
/// shared stop flag and the wake-up eventfd.
public final class EventLoop {
    /// Which loop this is (0-based), for logs and per-loop metrics.
    public let index: Int
    let configuration: ServerConfiguration
    private let epoll: Epoll
    private let wakeFD: Int32
    /// This loop's listening sockets; emptied when a drain begins (they are closed then).
    private var listeners: [Int32]
    private let shared: ServerSharedState
    var handler: (any HTTPHandler)?

    private var connections: [Connection?] = []
    private var connectionCount = 0
    /// Connections per peer address, kept only when `maxConnectionsPerPeer` is set (the admin listener).
    private var peerConnections: [String: Int] = [:]
    private var acceptSerial: UInt64 = 0
    /// Foreign descriptors by number, like `connections`: a lookup per event must not hash.
    private var watchers: [Watcher?] = []
    /// Timers by deadline: the next one is at the top, never found by scanning them all.
    private var timers = TimerHeap()
    private var listenersPausedUntil: UInt64 = 0
    private var nextSweep: UInt64 = 0
    private var dateCache = HTTPDateCache()
    private(set) var isDraining = false
    private var drainDeadline: UInt64 = 0

    /// Monotonic milliseconds, refreshed once per loop iteration.
    public private(set) var nowMs: UInt64
    /// One read buffer shared by every connection of the loop: data is copied out only when a
    /// request spans reads.
    let scratch: UnsafeMutableRawBufferPointer
    let maxBufferedInput: Int
    let maxPendingOutput = 256 * 1024
    private(set) var commonHeaders: [HTTPHeader] = []

    init(index: Int, epollFD: Int32, wakeFD: Int32, listeners: [Int32], configuration: ServerConfiguration, shared: ServerSharedState) {
        self.index = index
        self.epoll = Epoll(adopting: epollFD)
        self.wakeFD = wakeFD
        self.listeners = listeners
        self.configuration = configuration
        self.shared = shared
        self.nowMs = MonotonicClock.milliseconds()
        self.scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        let limits = configuration.limits
        self.maxBufferedInput = limits.maxRequestLineBytes + limits.maxHeaderBytes + limits.maxBodyBytes + 64 * 1024
    }

    deinit {
        scratch.deallocate()
    }

    // MARK: - Services for handlers

    /// A foreign descriptor the loop has registered with epoll. A parked watcher (no callback)
    /// stays registered while its owner does not need events, so a descriptor that is watched,
    /// set aside and watched again (an upstream keep-alive connection between calls) costs no
    /// `epoll_ctl` each time.
    private struct Watcher {
        var events: IOEvents
        var callback: ((Int32, IOEvents) -> Void)?
    }

    /// Watches a foreign descriptor (an upstream socket) for `events`; replaces an earlier watch.
    /// Re-watching with the events it is registered for costs no system call. The callback gets
    /// the descriptor, so one closure can serve every socket of its owner.
    public func watch(_ fd: Int32, events: IOEvents, _ callback: @escaping (Int32, IOEvents) -> Void) {
        let slot = Int(fd)
        guard slot >= 0 else { return }
        if slot >= watchers.count {
            watchers.append(contentsOf: repeatElement(nil, count: slot - watchers.count + 1))
        }
        let previous = watchers[slot]?.events
        watchers[slot] = Watcher(events: events, callback: callback)
        guard previous != events else { return }
        do {
            if previous != nil {
                try epoll.modify(fd, tag: .watcher, events: events)
            } else {
                try epoll.add(fd, tag: .watcher, events: events)
            }
        } catch {
            // A descriptor epoll refuses cannot make progress; report it as an error event at once.
            watchers[slot] = nil
            callback(fd, .error)
        }
    }

    /// Stops delivering events for `fd` but keeps it registered (parked) for a later `watch`.
    /// If it becomes ready while parked (the peer closed an idle connection), it is deregistered
    /// then, so a level-triggered event cannot spin the loop.
    public func unwatch(_ fd: Int32) {
        let slot = Int(fd)
        guard slot >= 0, slot < watchers.count else { return }
        watchers[slot]?.callback = nil
    }

    /// Forgets `fd` entirely; call it before the descriptor is closed, so its number can be
    /// reused by another socket without inheriting this registration.
    public func forget(_ fd: Int32) {
        let slot = Int(fd)
        guard slot >= 0, slot < watchers.count, watchers[slot] != nil else { return }
        watchers[slot] = nil
        epoll.remove(fd)
    }

    private func watcherCallback(_ fd: Int32) -> ((Int32, IOEvents) -> Void)? {
        let slot = Int(fd)
        return slot >= 0 && slot < watchers.count ? watchers[slot]?.callback : nil
    }

    /// Runs `action` on this loop after `delayMs`; returns a handle for `cancelTimer`.
    @discardableResult
    public func scheduleTimer(afterMs delayMs: Int, _ action: @escaping () -> Void) -> Int {
        timers.schedule(deadline: MonotonicClock.milliseconds() + UInt64(max(0, delayMs)), action)
    }

    /// Forgets a timer; one that already fired or was cancelled is ignored.
    public func cancelTimer(_ id: Int) {
        timers.cancel(id)
    }

    // MARK: - Running

    /// Registers the listeners and the wake-up eventfd; a loop that cannot is not started (see
    /// `HTTPServer.start`), never left running deaf.
    func register() throws {
        for listener in listeners { try epoll.add(listener, tag: .listener, events: .readable) }
        try epoll.add(wakeFD, tag: .wakeup, events: .readable)
    }

    /// Gives up a loop that failed to start: closes its listeners (its epoll closes with it).
    func abandon() {
        shutdownLoop()
    }

    /// Runs until a stop is requested and the drain is over; `register` must have succeeded.
    func run() {
        defer { shutdownLoop() }
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 256)
        defer { events.deallocate() }
        refreshClock()
        while true {
            if shared.isStopRequested && !isDraining { beginDrain() }
            if isDraining && (connectionCount == 0 || nowMs >= drainDeadline) { return }
            let ready = epoll.wait(into: events, timeoutMs: nextWaitMs())
            refreshClock()
            for i in 0..<ready {
                dispatchEvent(events[i])
            }
            runDueTimers()
            if nowMs >= nextSweep { sweep() }
        }
    }

    private func refreshClock() {
        nowMs = MonotonicClock.milliseconds()
        let before = dateCache.value
        dateCache.refresh()
        if dateCache.value != before { commonHeaders = [HTTPHeader(name: "Date", value: dateCache.value)] }
    }

    private func nextWaitMs() -> Int32 {
        var wake = nextSweep
        if let deadline = timers.nextDeadline(), deadline < wake { wake = deadline }
        if isDraining { wake = min(wake, nowMs + 50) }
        return wake <= nowMs ? 0 : Int32(min(wake - nowMs, 1000))
    }

    private func dispatchEvent(_ event: epoll_event) {
        let (tag, fd) = EpollTag.decode(event.data.u64)
        let ready = IOEvents(rawValue: event.events)
        switch tag {
        case .listener:
            acceptConnections(from: fd)
        case .connection:
            guard let connection = connection(for: fd) else { return }
            if !ready.isDisjoint(with: [.readable, .hangup, .error]) { connection.readable() }
            if ready.contains(.writable), connection.phase != .closed { connection.writable() }
        case .watcher:
            if let callback = watcherCallback(fd) {
                callback(fd, ready)
            } else {
                forget(fd)
            }
        case .wakeup:
            var value: UInt64 = 0
            _ = read(wakeFD, &value, 8)
        case nil:
            break
        }
    }

    /// Fires the timers due now, earliest first; the ones their actions schedule wait for the next
    /// pass (as before: a timer re-armed with no delay must not keep this pass going). An action that
    /// cancels a later timer is honoured, since cancelled timers are skipped when they come up.
    private func runDueTimers() {
        guard !timers.isEmpty else { return }
        let now = MonotonicClock.milliseconds()
        let lastBefore = timers.lastSequence
        while let action = timers.popDue(now: now, scheduledUpTo: lastBefore) {
            action()
        }
    }

    /// Enforces connection deadlines a few times a second; cheap even with 10,000 connections.
    private func sweep() {
        nextSweep = nowMs + 100
        if listenersPausedUntil != 0 && nowMs >= listenersPausedUntil { resumeListeners() }
        for case let connection? in connections where connection.deadline != 0 && connection.deadline <= nowMs {
            connection.deadlineExpired()
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
                try epoll.add(fd, tag: .connection, events: .readable)
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
                                                receivedAtNanos: MonotonicClock.nanoseconds()))
        }
    }

    /// Out of descriptors: stop accepting briefly instead of spinning on a listener that stays ready.
    private func pauseListeners() {
        guard listenersPausedUntil == 0 else { return }
        listeners.forEach { epoll.remove($0) }
        listenersPausedUntil = nowMs + 100
    }

    /// Re-registers the listeners after a pause; one that epoll still refuses is tried again on the
    /// next pause interval rather than being left silently unwatched (a loop that never accepts again).
    private func resumeListeners() {
        listenersPausedUntil = 0
        guard !isDraining else { return }
        var failed = false
        for listener in listeners {
            do {
                try epoll.add(listener, tag: .listener, events: .readable)
            } catch let error as SocketError where error.code == EEXIST {
                continue
            } catch {
                failed = true
            }
        }
        if failed { listenersPausedUntil = nowMs + 100 }
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
            try epoll.modify(connection.fd, tag: .connection, events: events)
            return true
        } catch {
            return false
        }
    }

    func remove(_ connection: Connection) {
        let slot = Int(connection.fd)
        guard slot < connections.count, connections[slot] === connection else { return }
        epoll.remove(connection.fd)
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
            epoll.remove(listener)
            acceptQueued(on: listener)
            _ = close(listener)
        }
        listeners = []
        isDraining = true
        drainDeadline = nowMs + UInt64(max(0, configuration.drainTimeoutMs))
        for case let connection? in connections { connection.closeIfIdle() }
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
        for case let connection? in connections { connection.close() }
        handler = nil
        listeners.forEach { _ = close($0) }
        // The wake-up eventfd is not closed here: `HTTPServer.stop` may still be writing to it,
        // and a closed number can be reused at once by another socket in the process, which would
        // then receive the wake-up bytes. The server closes it after joining this thread.
    }
}
