#if canImport(Glibc)
import Glibc
#endif
import CLinuxSystem
import JustGateReactor
import JustGateServer
import Synchronization

/// A way for another thread to run work on one event loop: an eventfd the loop watches, and a list of closures
/// behind a lock. The outbox's writer thread uses it to hand each deferral's "durable" back to the loop whose
/// request waits for it, so the 202 is written on the connection's own thread.
///
/// Only the first post into an empty list writes the eventfd: a batch of a thousand acknowledgements costs
/// the loop one wake-up. Made on the loop's thread (it registers with the loop); `post` may be called from any.
final class LoopMailbox: Sendable {
    private let fd: Int32
    private let inbox = Mutex<[@Sendable () -> Void]>([])

    /// The system would not give an eventfd (descriptor limit).
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    init(loop: EventLoop) throws {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else {
            throw Unavailable(description: "cannot create an eventfd for the outbox: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        // `watch` reports an epoll_ctl refusal by calling back with an error at once, before it returns: a
        // mailbox the loop never reads would leave every deferral waiting for its 202 forever, so refuse here.
        let starting = WatchStart()
        loop.watch(fd, events: .readable) { [self] _, _ in
            if starting.inProgress {
                starting.refused = true
                return
            }
            drain()
        }
        starting.inProgress = false
        if starting.refused {
            throw Unavailable(description: "the event loop cannot watch the outbox's eventfd; check the process's limits")
        }
    }

    /// Whether `watch` called back while it was being set up (its way of saying epoll refused the descriptor).
    private final class WatchStart {
        var inProgress = true
        var refused = false
    }

    /// The loop's watch holds the mailbox; it goes when the loop does (its epoll is closed by then).
    deinit { close(fd) }

    /// Runs `work` on the loop soon; never blocks (beyond the lock).
    func post(_ work: @escaping @Sendable () -> Void) {
        let wasEmpty = inbox.withLock { inbox in
            defer { inbox.append(work) }
            return inbox.isEmpty
        }
        guard wasEmpty else { return }
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    private func drain() {
        var count: UInt64 = 0
        _ = read(fd, &count, 8)
        let work = inbox.withLock { inbox in
            defer { inbox = [] }
            return inbox
        }
        for item in work { item() }
    }
}

/// A callback that belongs to one event loop, carried through another thread and run back on its loop.
///
/// `@unchecked Sendable` because the closure captures loop-confined state (a responder, a handler): that is
/// safe only because it is run solely by `LoopMailbox.drain` of the loop that made it, never on the thread
/// that carries it.
final class LoopCallback<Value: Sendable>: @unchecked Sendable {
    /// Set to nil on the loop once run: the thread that carried the callback may hold the last reference, and
    /// the loop-confined captures must not be released there.
    private var run: ((Value) -> Void)?

    init(_ run: @escaping (Value) -> Void) {
        self.run = run
    }

    /// Posts the call to `mailbox`, so it runs on the loop that made this callback.
    func post(_ value: Value, via mailbox: LoopMailbox) {
        mailbox.post { self.fire(value) }
    }

    /// On the loop: runs the callback once and lets go of what it captured, here.
    private func fire(_ value: Value) {
        let run = self.run
        self.run = nil
        run?(value)
    }
}
