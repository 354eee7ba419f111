/// Whether an operation's call may be kept in the outbox and delivered later (issue 25), and what a second
/// delivery does. A trait of the operation, not of the site: a site only chooses which of the deferrable
/// operations it defers (`sites[].defer`).
///
/// Delivery is at least once: a gateway that crashes after the upstream answered but before the answer was
/// recorded sends the call again after restart. That is why the trait says what a repeat does.
public enum DeferralTrait: Sendable, Equatable {
    /// The site needs the answer (`profile.create` returns the new juid; reads return data): never deferred.
    case never
    /// Sets a state (subscribed, unsubscribed, these UTM values): a second delivery leaves the same state,
    /// so a repeat is harmless and a timeout after sending may be deferred too.
    case stateSetting
    /// Records an event (`action.save`): a second delivery records it twice. Deferred only when the call
    /// provably never reached the upstream, and a crash may still repeat it.
    case recording

    /// Whether a site may list the operation in `defer`.
    public var mayDefer: Bool { self != .never }

    /// Whether delivering the call twice leaves the upstream as delivering it once.
    public var isSafeToDeliverTwice: Bool { self == .stateSetting }
}

extension OperationSpec {
    /// The operation with `trait`; used where the catalogue lists its operations.
    public func deferring(_ trait: DeferralTrait) -> OperationSpec {
        var copy = self
        copy.deferral = trait
        return copy
    }
}
