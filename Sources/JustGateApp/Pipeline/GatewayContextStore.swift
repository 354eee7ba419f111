import Synchronization

/// Holds the current `GatewayContext` for all loops. A reload replaces it whole; a reader takes the
/// reference to the current context under the lock (an uncontended lock, held for one retain) and keeps
/// using that context, so it never sees half of an old config and half of a new one. The pipeline reads it
/// once per pass: `prepare` for every request, and `screen` before it for a request with a body, so a reload
/// between the two can screen a request under the old config and admit it under the new one.
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
