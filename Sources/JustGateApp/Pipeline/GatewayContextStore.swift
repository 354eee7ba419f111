import Synchronization

/// Holds the current `GatewayContext` for all loops. A reload replaces it whole; a reader takes the
/// reference to the current context under the lock (an uncontended lock, held for one retain) and keeps
/// using that context, so it never sees half of an old config and half of a new one. `RequestDriver` reads it
/// once per request, when it makes the request's `RequestContext` (at the screen for a request with a body),
/// and the request is served under that context to its end.
public final class GatewayContextStore: Sendable {
    private let context: Mutex<GatewayContext>

    public init(_ context: GatewayContext) {
        self.context = Mutex(context)
    }

    public var current: GatewayContext { context.withLock { $0 } }

    public func replace(with context: GatewayContext) {
        self.context.withLock { $0 = context }
    }
}
