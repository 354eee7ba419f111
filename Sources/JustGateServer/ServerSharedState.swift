import Synchronization

/// The little state the loops of one server share: the stop request and the connection count
/// that enforces `maxConnections` across loops. Atomics, so accepting and closing a connection takes
/// no lock here (the gateway's pipeline does take one uncontended lock per request, to read the
/// current config: see `GatewayContextStore`).
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
