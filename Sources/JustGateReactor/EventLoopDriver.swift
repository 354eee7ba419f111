/// What a loop runs besides watchers and timers: the owner of its listening sockets and
/// connections (the HTTP server's `ServerLoop`). The loop delivers the events of the descriptors
/// the driver registered (`EventLoop.add(_:as:events:)`) and asks it, every turn, whether to end.
///
/// A protocol rather than closures so the loop can call it directly, once per ready descriptor,
/// and so the reactor needs no knowledge of what a connection carries.
public protocol EventLoopDriver: AnyObject {
    /// After each wait, with `EventLoop.now` fresh, before events are delivered (per-turn
    /// caches such as the `Date` header are refreshed here).
    func loopAwoke()
    /// Before each wait: true ends `EventLoop.run` (a stop was requested and the drain is over).
    func loopShouldEnd() -> Bool
    /// A registered listening socket has connections to accept.
    func listenerReady(_ fd: Int32)
    /// A registered connection is ready.
    func connectionReady(_ fd: Int32, events: IOEvents)
}

/// Which of the driver's descriptors an event is for, kept in the epoll event itself so a ready
/// event says what it is without a lookup.
public enum DescriptorRole: Sendable {
    case listener
    case connection

    var tag: EpollTag {
        switch self {
        case .listener: .listener
        case .connection: .connection
        }
    }
}
