import Synchronization

/// The little state the server's loops share: the stop request and the connection count that enforces
/// `maxConnections` across loops. Atomics, so accepting and closing a connection takes no lock. This is
/// only the server's own state: the gateway's handler shares more across loops, with locks of its own
/// (the current config in `GatewayContextStore`, the audit lanes, the log sink, metric histograms).
final class ServerSharedState: Sendable {
    private let stopRequested = Atomic<Bool>(false)
    private let openConnections = Atomic<Int>(0)
    let maxConnections: Int

    init(maxConnections: Int) {
        self.maxConnections = maxConnections
    }

    var isStopRequested: Bool { stopRequested.load(ordering: .acquiring) }

    func requestStop() { stopRequested.store(true, ordering: .releasing) }

    /// Counts a new connection if there is room for it.
    func acquireConnection() -> Bool {
        let previous = openConnections.add(1, ordering: .relaxed).oldValue
        if previous >= maxConnections {
            openConnections.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseConnection() { openConnections.subtract(1, ordering: .relaxed) }

    var connectionCount: Int { openConnections.load(ordering: .relaxed) }
}
