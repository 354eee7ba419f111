import Synchronization

/// Which event loops find a shared Redis down, so that an outage is logged once when it starts and once when
/// it ends, not once per loop or per request (the idempotency store and the outbox each keep one).
///
/// The outage lasts from the first loop that is down to the last one that is back. Counting loops, not
/// events, matters: a loop whose first connection is set up just after another loop's failed must not log
/// the outage's end (and then its start again).
final class LoopOutage: Sendable {
    enum Change { case began, ended }

    private let loopsDown = Mutex(Set<ObjectIdentifier>())

    /// Records that `loop` is down or working again; says whether this began or ended the outage.
    func report(_ loop: ObjectIdentifier, down: Bool) -> Change? {
        let (before, after) = loopsDown.withLock { set in
            let before = set.count
            if down { set.insert(loop) } else { set.remove(loop) }
            return (before, set.count)
        }
        if before == 0 && after > 0 { return .began }
        if before > 0 && after == 0 { return .ended }
        return nil
    }
}
