import JustGateCore
import JustGateReactor
import JustGateServer

/// One event loop's way into the outbox: what the request driver's deferral phases call (issue 25 items 2
/// and 3, `RequestDriver+Deferral.swift`: `mustWait` and `keep`; `RequestDriver+DeliveryStatus.swift`:
/// `status`), and the loop's delivery engine. Confined to its loop; every completion it takes runs on that loop.
final class OutboxLane {
    let store: OutboxFileStore
    let engine: DeliveryEngine
    private let mailbox: LoopMailbox

    /// Made on the loop's thread (the mailbox registers with the loop).
    init(store: OutboxFileStore, loop: EventLoop, upstream: ResilientUpstream, contexts: GatewayContextStore) throws {
        self.store = store
        self.mailbox = try LoopMailbox(loop: loop)
        self.engine = DeliveryEngine(store: store, loop: loop, upstream: upstream, contexts: contexts)
    }

    /// Whether a call of this site and juid must be deferred because earlier ones still wait (item 2c).
    func mustWait(siteID: String, juid: String) -> Bool {
        store.hasPending(siteID: siteID, juid: juid)
    }

    /// Keeps `call`; `completion` runs on this loop once the entry is on disk (answer 202), or with the
    /// reason it was not kept (answer 503). A kept call is delivered by this loop's engine as soon as it is
    /// due (at once, unless earlier calls of its site and juid wait).
    func keep(_ call: DeferredCall, completion: @escaping (Result<OutboxEntry, OutboxRefusal>) -> Void) {
        let engine = self.engine
        let callback = LoopCallback<Result<OutboxEntry, OutboxRefusal>> { result in
            completion(result)
            if case .success = result { engine.kick() }
        }
        let mailbox = self.mailbox
        store.keep(call) { result in callback.post(result, via: mailbox) }
    }

    /// What `GET /justgate/v1/deliveries/<id>` shows `siteID`; nil for an unknown id and for another
    /// site's entry alike, so ids cannot be probed across sites.
    func status(id: String, siteID: String) -> DeliveryStatus? {
        guard let entry = store.entry(id: id), entry.siteID == siteID else { return nil }
        return DeliveryStatus(entry)
    }
}
