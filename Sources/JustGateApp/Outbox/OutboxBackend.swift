import JustGateCore

/// Where one event loop keeps and takes deferred calls: the file store (`FileOutboxLoopBackend`, one gateway)
/// or Redis (`RedisOutboxStore`, several gateways on one outbox). The request driver's deferral phases (through
/// `OutboxLane`), the loop's `DeliveryEngine` and the deliveries URL use only this.
///
/// Confined to its loop, and completion-based wherever Redis needs a round trip: every completion runs on the
/// loop that made the call, exactly once, possibly before the call returns (the file store answers from
/// memory at once). `settle` and `hold` answer at once in both backends: the verdict is the policy's,
/// computed here, and the write that records it is not waited for (a lost write repeats an attempt, which
/// at-least-once delivery allows).
protocol OutboxBackend: AnyObject {
    /// Keeps `call`; the completion gets the entry once it is durable (answer 202), or why it was not kept (503).
    func keep(_ call: DeferredCall, completion: @escaping (Result<OutboxEntry, OutboxRefusal>) -> Void)

    /// Whether earlier calls of this site and juid still wait, so a new one must wait behind them (item 2c);
    /// a failure when that cannot be known (Redis down): the caller answers 503 rather than risk overtaking.
    func mustWait(siteID: String, juid: String, completion: @escaping (Result<Bool, OutboxRefusal>) -> Void)

    /// The entry with `id`, if the outbox knows it (delivered ones are remembered for a while), or that it
    /// cannot be read now (Redis down): a 503, never a 404 that would tell the site its call is gone.
    func entry(id: String, completion: @escaping (OutboxLookup) -> Void)

    /// Up to `limit` due entries, each the oldest of its site and juid, now held by this loop until settled,
    /// held or unclaimed.
    func claim(limit: Int, completion: @escaping ([OutboxEntry]) -> Void)

    /// When the next entry comes due (wall-clock ms) as far as this backend knows, or nil: the engine then
    /// looks again after its poll interval.
    func nextDueAtMs() -> Int64?

    /// Gives a claimed entry back unsent, due at once (the engine is stopping or paused).
    func unclaim(id: String)

    /// Whether a claimed entry may still be sent: with Redis, its lease has time left for the attempt to
    /// start and be renewed (a claim answered late, or a loop that stalled, gives the entry back instead).
    func mayStillSend(id: String) -> Bool

    /// Told when the backend lost an entry's lease mid-attempt (Redis): the engine stops the attempt without
    /// recording it, since another gateway may already be sending that juid's calls.
    var onLeaseLost: ((String) -> Void)? { get set }

    /// Whether writes this loop sent still wait for their answer (settles, releases): a stopping loop
    /// waits for them within the grace, so they are not cut off with the connection.
    var hasWritesUnderWay: Bool { get }

    /// Records an attempt's result (`OutboxFileStore.settle`); `recorded` runs once the outbox took the
    /// record (at once for the file store; on Redis's `ok`), and not at all when the lease had ended or the
    /// entry was dropped, so metrics and the audit log count only results that stand.
    func settle(_ entry: OutboxEntry, attempt: DeliveryAttempt, body: [UInt8], failure: String?,
                recorded: @escaping (DeliveryVerdict, OutboxUpdate) -> Void)

    /// No call was made: the entry waits (`OutboxFileStore.hold`); the verdict and update only when its end
    /// was recorded.
    func hold(_ entry: OutboxEntry, reason: String, retryAfterMs: Int?) -> (verdict: DeliveryVerdict, update: OutboxUpdate)?
}

/// What a read of one entry found: it, nothing (unknown id, or forgotten), or no answer (the outbox cannot
/// be reached now).
enum OutboxLookup {
    case found(OutboxEntry)
    case unknown
    case unavailable

    var isUnavailable: Bool { if case .unavailable = self { true } else { false } }
}

/// The file store as one loop's backend: it answers from memory under its lock, so everything completes at
/// once except `keep`, whose completion comes from the writer thread after the group fsync and is carried
/// back to this loop through the mailbox.
final class FileOutboxLoopBackend: OutboxBackend {
    let store: OutboxFileStore
    private let mailbox: LoopMailbox

    init(store: OutboxFileStore, mailbox: LoopMailbox) {
        self.store = store
        self.mailbox = mailbox
    }

    func keep(_ call: DeferredCall, completion: @escaping (Result<OutboxEntry, OutboxRefusal>) -> Void) {
        let callback = LoopCallback<Result<OutboxEntry, OutboxRefusal>>(completion)
        let mailbox = self.mailbox
        store.keep(call) { result in callback.post(result, via: mailbox) }
    }

    func mustWait(siteID: String, juid: String, completion: @escaping (Result<Bool, OutboxRefusal>) -> Void) {
        completion(.success(store.hasPending(siteID: siteID, juid: juid)))
    }

    func entry(id: String, completion: @escaping (OutboxLookup) -> Void) {
        completion(store.entry(id: id).map(OutboxLookup.found) ?? .unknown)
    }

    func claim(limit: Int, completion: @escaping ([OutboxEntry]) -> Void) {
        completion(store.claimDue(limit: limit))
    }

    func nextDueAtMs() -> Int64? { store.nextDueAtMs() }

    func unclaim(id: String) { store.unclaim(id: id) }

    /// One process holds the file outbox: a claim never ends by itself.
    func mayStillSend(id: String) -> Bool { true }

    /// Never called: the file store has no leases.
    var onLeaseLost: ((String) -> Void)?

    /// Settles are in memory at once; the writer thread is stopped (and synced) by the runtime.
    var hasWritesUnderWay: Bool { false }

    func settle(_ entry: OutboxEntry, attempt: DeliveryAttempt, body: [UInt8], failure: String?,
                recorded: @escaping (DeliveryVerdict, OutboxUpdate) -> Void) {
        let (verdict, update) = store.settle(entry, attempt: attempt, body: body, failure: failure)
        recorded(verdict, update)
    }

    func hold(_ entry: OutboxEntry, reason: String, retryAfterMs: Int?) -> (verdict: DeliveryVerdict, update: OutboxUpdate)? {
        store.hold(entry, reason: reason, retryAfterMs: retryAfterMs)
    }
}
