/// The outbox's entries in memory, and which of them is due: the pure part of delivery order and bounds.
///
/// Only the oldest pending entry of an order key (site and juid) can be due: a later call waits behind the
/// earlier ones, so a subscribe deferred during an outage reaches the upstream before the unsubscribe that
/// followed it, whatever their retry times. Heads are kept in a heap by their next attempt, so finding what
/// is due costs a few comparisons whatever the depth. An entry admitted before it is durable
/// (`admit(_:durable: false)`) already holds its place in its key's line and its bytes, but is not due until
/// `confirm`: nothing is sent that a crash could forget having sent.
///
/// Not thread-safe: the store that owns it keeps it behind a lock.
public struct OutboxQueue: Sendable {
    /// `outbox.max_bytes` would be passed: the call is not deferred (the site gets 503, never a silent drop).
    public struct Full: Error, Equatable {
        public var maxBytes: Int
    }

    public let maxBytes: Int
    /// Delivered entries remembered (without their bodies) for status lookups; older ones are forgotten.
    public let keepDelivered: Int
    public private(set) var entries: [String: OutboxEntry] = [:]
    /// Pending ids of each key, oldest (lowest sequence) first.
    private var waiting: [OutboxOrderKey: OutboxOrderLine] = [:]
    private var notYetDurable: Set<String> = []
    private var claimed: Set<String> = []
    /// Keys with an entry claimed: no other entry of the key is handed out meanwhile, even one put back ahead
    /// of it (an operator's retry of an older dead entry), so one site and juid never has two calls in flight.
    private var claimedKeys: Set<OutboxOrderKey> = []
    private var heads = DueHeap()
    private var delivered: [String] = []
    private var deliveredStart = 0
    /// Pending entries, all keys together (kept as entries come and go: read at every scrape and by the CLI).
    public private(set) var pendingCount = 0
    /// Pending and dead entries per site, kept the same way.
    private var siteCounts: [String: (pending: Int, dead: Int)] = [:]
    /// Bytes of the pending and dead entries (`OutboxEntry.accountedBytes`).
    public private(set) var accountedBytes = 0
    public private(set) var nextSequence: UInt64 = 1

    public init(maxBytes: Int, keepDelivered: Int = 100_000) {
        self.maxBytes = maxBytes
        self.keepDelivered = keepDelivered
    }

    /// Whether a call of this site and juid would have to wait behind earlier ones (issue 25 item 2c).
    public func hasPending(_ key: OutboxOrderKey) -> Bool {
        waiting[key] != nil
    }

    /// The entry with `id`, in whatever state.
    public func entry(id: String) -> OutboxEntry? { entries[id] }

    /// Up to `limit` entries in `state` (of `site`, when given), oldest (lowest sequence) first: what an
    /// operator lists.
    public func list(state: OutboxEntry.State, site: String? = nil, limit: Int) -> [OutboxEntry] {
        var oldest = OldestSelection(limit: limit)
        for (id, entry) in entries where entry.state == state && (site == nil || entry.siteID == site) {
            oldest.offer(sequence: entry.sequence, id: id)
        }
        return oldest.idsOldestFirst().compactMap { entries[$0] }
    }

    /// Per site: pending entries, the oldest pending entry's creation (wall-clock ms) and dead entries. The
    /// counts are kept as entries change; the oldest is the oldest head of the site's lines (a line's head is
    /// its oldest entry), a look at one entry per site and juid rather than at every entry.
    public func siteReadings() -> [String: (pending: Int, oldestCreatedAtMs: Int64, dead: Int)] {
        var readings: [String: (pending: Int, oldestCreatedAtMs: Int64, dead: Int)] = [:]
        for (site, counts) in siteCounts where counts.pending > 0 || counts.dead > 0 {
            readings[site] = (counts.pending, Int64.max, counts.dead)
        }
        for (key, line) in waiting {
            guard let head = line.first.flatMap({ entries[$0] }) else { continue }
            guard let oldest = readings[key.siteID]?.oldestCreatedAtMs, head.createdAtMs < oldest else { continue }
            readings[key.siteID]?.oldestCreatedAtMs = head.createdAtMs
        }
        return readings
    }

    /// Entries handed out by `claimDue` whose attempt has no result yet: deliveries under way.
    public var claimedCount: Int { claimed.count }

    /// The next sequence number, for a new entry.
    public mutating func takeSequence() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// Adds a new pending entry behind the others of its key; `durable: false` holds it back until `confirm`.
    public mutating func admit(_ entry: OutboxEntry, durable: Bool) throws(Full) {
        guard accountedBytes + entry.accountedBytes <= maxBytes else { throw Full(maxBytes: maxBytes) }
        if !durable { notYetDurable.insert(entry.id) }
        restore(entry)
    }

    /// The entry is on disk: it may be delivered now.
    public mutating func confirm(id: String) {
        guard notYetDurable.remove(id) != nil, let entry = entries[id] else { return }
        pushIfHead(entry)
    }

    /// Puts an entry as it is recorded (replay at start, or an entry carried forward), replacing an older copy.
    public mutating func restore(_ entry: OutboxEntry) {
        if entries[entry.id] != nil { detach(entry.id) }
        nextSequence = max(nextSequence, entry.sequence + 1)
        attach(entry)
    }

    /// Applies a recorded change; an update for an entry not (or no longer) known is ignored.
    public mutating func apply(_ update: OutboxUpdate) {
        guard var entry = entries[update.id] else { return }
        detach(update.id)
        entry.apply(update)
        attach(entry)
    }

    /// Forgets an entry (an operator dropped it, or its write failed before it was durable).
    public mutating func drop(id: String) {
        guard entries[id] != nil else { return }
        detach(id)
        entries[id] = nil
        notYetDurable.remove(id)
    }

    /// Takes up to `limit` due entries (heads of their keys whose time has come) for delivery; each stays
    /// claimed, never handed out twice, until its attempt's result is applied or it is `unclaim`ed.
    public mutating func claimDue(nowMs: Int64, limit: Int) -> [OutboxEntry] {
        var due: [OutboxEntry] = []
        while due.count < limit, let top = heads.peek, top.atMs <= nowMs {
            heads.pop()
            guard let entry = validHead(top) else { continue }
            claimed.insert(entry.id)
            claimedKeys.insert(entry.orderKey)
            due.append(entry)
        }
        return due
    }

    /// Gives a claimed entry back without an attempt (the gateway is stopping).
    public mutating func unclaim(id: String) {
        guard claimed.remove(id) != nil, let entry = entries[id] else { return }
        releaseKey(entry.orderKey)
    }

    /// When the next entry comes due, if any is waiting; drops stale heap items on the way.
    public mutating func nextDueAtMs() -> Int64? {
        while let top = heads.peek {
            if validHead(top) != nil { return top.atMs }
            heads.pop()
        }
        return nil
    }

    // MARK: - Bookkeeping

    private func validHead(_ item: DueHeap.Item) -> OutboxEntry? {
        guard let entry = entries[item.id], entry.state == .pending, entry.nextAttemptAtMs == item.atMs,
              !claimed.contains(item.id), !notYetDurable.contains(item.id),
              !claimedKeys.contains(entry.orderKey), waiting[entry.orderKey]?.first == item.id
        else { return nil }
        return entry
    }

    private mutating func pushIfHead(_ entry: OutboxEntry) {
        guard entry.state == .pending, waiting[entry.orderKey]?.first == entry.id,
              !notYetDurable.contains(entry.id), !claimed.contains(entry.id),
              !claimedKeys.contains(entry.orderKey) else { return }
        heads.push(DueHeap.Item(atMs: entry.nextAttemptAtMs, sequence: entry.sequence, id: entry.id))
    }

    private mutating func attach(_ entry: OutboxEntry) {
        var entry = entry
        if entry.state == .delivered {
            entry.body = []
            delivered.append(entry.id)
            forgetOldDelivered()
        } else {
            accountedBytes += entry.accountedBytes
            siteCounts[entry.siteID, default: (0, 0)].dead += entry.state == .dead ? 1 : 0
        }
        entries[entry.id] = entry
        guard entry.state == .pending else { return }
        pendingCount += 1
        siteCounts[entry.siteID, default: (0, 0)].pending += 1
        let known = entries
        waiting[entry.orderKey, default: OutboxOrderLine()].insert(entry.id, sequence: entry.sequence) { known[$0]?.sequence ?? 0 }
        // A restored older entry may go before one already waiting; that one's heap item then fails
        // `validHead` (it is no longer first in its line) and is dropped when it comes up.
        pushIfHead(entry)
    }

    private mutating func detach(_ id: String) {
        guard let entry = entries[id] else { return }
        let wasClaimed = claimed.remove(id) != nil
        if entry.state != .delivered { accountedBytes -= entry.accountedBytes }
        if entry.state == .dead { siteCounts[entry.siteID]?.dead -= 1 }
        defer { if wasClaimed { releaseKey(entry.orderKey) } }
        guard entry.state == .pending, let removal = waiting[entry.orderKey]?.remove(id), removal.removed else { return }
        pendingCount -= 1
        siteCounts[entry.siteID]?.pending -= 1
        if waiting[entry.orderKey]?.isEmpty == true { waiting[entry.orderKey] = nil }
        if removal.wasHead, let next = waiting[entry.orderKey]?.first, let head = entries[next] { pushIfHead(head) }
    }

    /// The key's claimed entry is back or done: whichever entry now heads its line may be handed out.
    private mutating func releaseKey(_ key: OutboxOrderKey) {
        claimedKeys.remove(key)
        if let first = waiting[key]?.first, let head = entries[first] { pushIfHead(head) }
    }

    private mutating func forgetOldDelivered() {
        while delivered.count - deliveredStart > keepDelivered {
            let id = delivered[deliveredStart]
            deliveredStart += 1
            if entries[id]?.state == .delivered { entries[id] = nil }
        }
        if deliveredStart > 4096 && deliveredStart * 2 > delivered.count {
            delivered.removeFirst(deliveredStart)
            deliveredStart = 0
        }
    }
}
