import JustGateCore
import JustGateReactor
import JustGateServer

/// One event loop's way into the outbox: what the request driver's deferral phases call (issue 25 items 2
/// and 3, `RequestDriver+Deferral.swift`: `mustWait` and `keep`; `RequestDriver+DeliveryStatus.swift`:
/// `status`), and the loop's delivery engine. Confined to its loop; every completion it takes runs on that loop.
final class OutboxLane {
    let backend: any OutboxBackend
    let engine: DeliveryEngine

    /// The file backend: made on the loop's thread (the mailbox registers with the loop).
    convenience init(store: OutboxFileStore, loop: EventLoop, upstream: ResilientUpstream,
                     contexts: GatewayContextStore, floorPerSecond: Double) throws {
        let backend = FileOutboxLoopBackend(store: store, mailbox: try LoopMailbox(loop: loop))
        self.init(backend: backend, loop: loop, upstream: upstream, contexts: contexts, floorPerSecond: floorPerSecond)
    }

    /// Any backend already made for this loop (`RedisOutboxStore`). `floorPerSecond` is this loop's share of
    /// `outbox.min_delivery_rate`.
    init(backend: any OutboxBackend, loop: EventLoop, upstream: ResilientUpstream, contexts: GatewayContextStore,
         floorPerSecond: Double) {
        self.backend = backend
        self.engine = DeliveryEngine(store: backend, loop: loop, upstream: upstream, contexts: contexts,
                                     floorPerSecond: floorPerSecond)
    }

    /// Whether a call of this site and juid must be deferred because earlier ones still wait (item 2c).
    func mustWait(siteID: String, juid: String, completion: @escaping (Result<Bool, OutboxRefusal>) -> Void) {
        backend.mustWait(siteID: siteID, juid: juid, completion: completion)
    }

    /// Keeps `call`; `completion` runs on this loop once the entry is durable (answer 202), or with the
    /// reason it was not kept (answer 503). A kept call is delivered by this loop's engine as soon as it is
    /// due (at once, unless earlier calls of its site and juid wait).
    func keep(_ call: DeferredCall, completion: @escaping (Result<OutboxEntry, OutboxRefusal>) -> Void) {
        let engine = self.engine
        backend.keep(call) { result in
            completion(result)
            if case .success = result { engine.kick() }
        }
    }

    /// What `GET /justgate/v1/deliveries/<id>` shows `siteID`; nil for an unknown id and for another
    /// site's entry alike, so ids cannot be probed across sites; a refusal when the outbox cannot be read now.
    func status(id: String, siteID: String, completion: @escaping (Result<DeliveryStatus?, OutboxRefusal>) -> Void) {
        backend.entry(id: id) { lookup in
            switch lookup {
            case .found(let entry) where entry.siteID == siteID: completion(.success(DeliveryStatus(entry)))
            case .found, .unknown: completion(.success(nil))
            case .unavailable: completion(.failure(RedisOutboxStore.unavailable))
            }
        }
    }
}
