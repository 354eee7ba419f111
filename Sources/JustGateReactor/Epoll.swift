#if canImport(Glibc)
import Glibc
#endif
import CLinuxSystem

/// The kinds of descriptor an event loop watches, kept in the top byte of `epoll_data.u64` so a
/// ready event says what it is without a lookup.
enum EpollTag: UInt64 {
    case listener = 1
    case connection = 2
    case watcher = 3
    case wakeup = 4

    func data(for fd: Int32) -> UInt64 { (rawValue << 56) | UInt64(UInt32(bitPattern: fd)) }

    static func decode(_ data: UInt64) -> (EpollTag?, Int32) {
        (EpollTag(rawValue: data >> 56), Int32(bitPattern: UInt32(truncatingIfNeeded: data)))
    }
}

/// Interest and readiness bits, named so call sites read as words rather than masks.
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    public static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    public static let hangup = IOEvents(rawValue: EPOLLHUP.rawValue | EPOLLRDHUP.rawValue)
    public static let error = IOEvents(rawValue: EPOLLERR.rawValue)
}

/// A thin owner of one epoll instance. Level-triggered: a loop that stops reading a socket simply
/// drops `.readable` from its interest, which is how back-pressure works.
struct Epoll: ~Copyable {
    let fd: Int32

    /// Creates the epoll descriptor on the calling thread so a failure can be thrown to `start()`.
    static func create() throws -> Int32 {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SocketError("epoll_create1") }
        return fd
    }

    init(adopting fd: Int32) {
        self.fd = fd
    }

    deinit { _ = close(fd) }

    func add(_ target: Int32, tag: EpollTag, events: IOEvents) throws {
        try control(EPOLL_CTL_ADD, target, tag: tag, events: events)
    }

    func modify(_ target: Int32, tag: EpollTag, events: IOEvents) throws {
        try control(EPOLL_CTL_MOD, target, tag: tag, events: events)
    }

    func remove(_ target: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, target, &event)
    }

    private func control(_ operation: Int32, _ target: Int32, tag: EpollTag, events: IOEvents) throws {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = tag.data(for: target)
        guard epoll_ctl(fd, operation, target, &event) == 0 else { throw SocketError("epoll_ctl") }
    }

    /// Waits for events into `buffer`; returns how many are ready (0 on timeout or signal).
    func wait(into buffer: UnsafeMutableBufferPointer<epoll_event>, timeoutMs: Int32) -> Int {
        let count = epoll_wait(fd, buffer.baseAddress, Int32(buffer.count), timeoutMs)
        return count < 0 ? 0 : Int(count)
    }
}
