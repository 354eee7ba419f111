#if canImport(Glibc)
import Glibc
#endif
import CLinuxSystem

/// One thread's epoll loop: the descriptors its driver owns (the HTTP server's listening sockets
/// and connections), whatever else is asked to be watched (libcurl's upstream sockets, the Redis
/// connection) and the timers, so a request is accepted, parsed, forwarded and answered without
/// ever changing threads.
///
/// It knows nothing of HTTP: what a ready listener or connection means is the driver's business
/// (`EventLoopDriver`). Everything here is confined to the loop's thread; the only way in from
/// outside is the wake-up eventfd (`EventLoop.wake`).
public final class EventLoop {
    /// Which loop this is (0-based), for logs and per-loop metrics.
    public let index: Int
    private let epoll: Epoll
    private let wakeFD: Int32
    /// Foreign descriptors by number: a lookup per event must not hash.
    private var watchers: [Watcher?] = []
    /// Timers by deadline: the next one is at the top, never found by scanning them all.
    private var timers = TimerHeap()

    /// Where the loop reads the time; tests pass a `ManualClock`'s.
    public let clock: MonotonicClock
    /// The time of the current turn, read once after each wait.
    public private(set) var now: MonotonicInstant

    /// Adopts an epoll descriptor (`openEpoll`) and a wake-up eventfd (`openWakeup`) made on the
    /// starting thread, so their failures can be thrown there. The epoll descriptor is closed with
    /// the loop; the eventfd is not (see `wake`).
    public init(index: Int, epollFD: Int32, wakeFD: Int32, clock: MonotonicClock = .system) {
        self.index = index
        self.epoll = Epoll(adopting: epollFD)
        self.wakeFD = wakeFD
        self.clock = clock
        self.now = clock.now()
    }

    /// A new epoll descriptor for `init`.
    public static func openEpoll() throws -> Int32 { try Epoll.create() }

    /// A new non-blocking eventfd for `init`, through which another thread wakes the loop.
    public static func openWakeup() throws -> Int32 {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { throw SocketError("eventfd") }
        return fd
    }

    /// Wakes the loop owning `wakeFD` from any thread. The owner closes `wakeFD` only after the loop's
    /// thread has ended: a closed number can be reused at once by another socket in the process,
    /// which would then receive the wake-up bytes. A failed wake-up only delays the loop to its next
    /// turn (it waits at most a second).
    public static func wake(_ wakeFD: Int32) {
        _ = eventfd_write(wakeFD, 1)
    }

    // MARK: - Watchers (foreign descriptors)

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

    // MARK: - Timers

    /// Runs `action` on this loop after `delayMs`; returns a handle for `cancelTimer`.
    @discardableResult
    public func scheduleTimer(afterMs delayMs: Int, _ action: @escaping () -> Void) -> Int {
        timers.schedule(deadline: clock.now().advanced(byMilliseconds: delayMs).nanoseconds, action)
    }

    /// Forgets a timer; one that already fired or was cancelled is ignored.
    public func cancelTimer(_ id: Int) {
        timers.cancel(id)
    }

    // MARK: - The driver's descriptors

    /// Registers one of the driver's own descriptors; its events go to the driver, not to a watcher.
    public func add(_ fd: Int32, as role: DescriptorRole, events: IOEvents) throws {
        try epoll.add(fd, tag: role.tag, events: events)
    }

    /// Changes what epoll reports for one of the driver's descriptors.
    public func modify(_ fd: Int32, as role: DescriptorRole, events: IOEvents) throws {
        try epoll.modify(fd, tag: role.tag, events: events)
    }

    /// Deregisters one of the driver's descriptors (it is not closed).
    public func remove(_ fd: Int32) {
        epoll.remove(fd)
    }

    // MARK: - Running

    /// Registers the wake-up eventfd; a loop that cannot is not run.
    public func registerWakeup() throws {
        try epoll.add(wakeFD, tag: .wakeup, events: .readable)
    }

    /// Runs turns (wait, deliver events, fire due timers) until `driver.loopShouldEnd()` says so.
    /// The driver is held only for the run, so it may own the loop without a cycle.
    public func run(driver: some EventLoopDriver) {
        let events = UnsafeMutableBufferPointer<epoll_event>.allocate(capacity: 256)
        defer { events.deallocate() }
        now = clock.now()
        driver.loopAwoke()
        while !driver.loopShouldEnd() {
            turn(driver: driver, events: events, maxWaitMs: 1000)
        }
    }

    /// One turn: waits for events (until the next timer, at most `maxWaitMs`), reads the clock, delivers
    /// the events and fires the timers due. `run` turns until the driver ends it; tests turn by hand.
    func turn(driver: some EventLoopDriver, events: UnsafeMutableBufferPointer<epoll_event>, maxWaitMs: Int64) {
        let ready = epoll.wait(into: events, timeoutMs: Int32(waitMs(atMost: maxWaitMs)))
        now = clock.now()
        driver.loopAwoke()
        for i in 0..<ready {
            dispatchEvent(events[i], driver: driver)
        }
        runDueTimers()
    }

    /// Until the next timer, and at most `limit` (a second in `run`, so a stop request is never missed
    /// for long).
    private func waitMs(atMost limit: Int64) -> Int64 {
        guard let deadline = timers.nextDeadline() else { return limit }
        return min(now.milliseconds(until: MonotonicInstant(nanoseconds: deadline)), limit)
    }

    private func dispatchEvent(_ event: epoll_event, driver: some EventLoopDriver) {
        let (tag, fd) = EpollTag.decode(event.data.u64)
        let ready = IOEvents(rawValue: event.events)
        switch tag {
        case .listener:
            driver.listenerReady(fd)
        case .connection:
            driver.connectionReady(fd, events: ready)
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

    /// Fires the timers due at the turn's time, earliest first; the ones their actions schedule wait for
    /// the next pass (a timer re-armed with no delay must not keep this pass going). An action that
    /// cancels a later timer is honoured, since cancelled timers are skipped when they come up.
    ///
    /// Due by `now`, not by a fresh reading: an action compares deadlines with `now`, so a timer that
    /// fired by a later reading would find its own deadline not yet passed (a sweep that closes nothing
    /// and re-arms past the test's `ManualClock`, or, on the system clock, one wasted pass).
    private func runDueTimers() {
        guard !timers.isEmpty else { return }
        let due = now.nanoseconds
        let lastBefore = timers.lastSequence
        while let action = timers.popDue(now: due, scheduledUpTo: lastBefore) {
            action()
        }
    }
}
