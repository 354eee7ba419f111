import JustGateServer

/// A stopping gateway and its outbox delivery (issue 25 item 6 review): the drain stops claims at once, lets
/// the attempts under way finish (and their records reach the outbox) within `shutdown.grace_ms`, and when
/// the loop ends gives back what is still under way, so with Redis another gateway takes those juids at once
/// instead of after `lease_ms`.
extension RequestDriver {
    func drainBegan() { outbox?.engine.stopClaiming() }

    var isBusy: Bool { outbox?.engine.isBusy ?? false }

    func loopEnding() { outbox?.engine.stop() }
}
