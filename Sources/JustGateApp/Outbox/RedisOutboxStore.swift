import JustGateCore
import JustGateReactor
import JustGateRedis
import JustGateServer

/// One event loop's way into the shared outbox in Redis (`outbox.backend: redis`): its own pipelined
/// connection and one `EVALSHA` of `RedisOutboxScript` per operation, so several gateways keep, claim and
/// settle entries of one outbox, each change atomic.
///
/// The 202 follows the `keep` script's reply, so the entry is as durable as Redis makes it (README: run Redis
/// with `appendonly yes` and `appendfsync always`). Delivery claims order keys for `lease_ms`; while an attempt
/// runs longer than a third of that, the lease is renewed, so a slow upstream never hands a key to a second
/// gateway mid-attempt (which could let that juid's next call overtake the one still in flight); a renewal
/// that fails stops the attempt unrecorded (`RedisOutboxStore+Leases`). A killed gateway's keys come due
/// again when their leases end; a stopping one releases them (`DeliveryEngine.stop`).
///
/// Redis down: `keep` and `mustWait` fail (503), claims come back empty (delivery pauses), and the outage is
/// logged once each way (`RedisOutboxShared.report`). The script is loaded in the handshake and sent whole once
/// if Redis forgot it (`NOSCRIPT`, after a restart or a failover).
final class RedisOutboxStore: OutboxBackend {
    let shared: RedisOutboxShared
    let loop: EventLoop
    let connection: RedisConnection
    var scriptDigest: String?
    /// This store's lease tokens start with it: unguessable, so no other loop or gateway can hold its keys.
    private let tokenPrefix = OutboxFileStore.newID()
    /// Claimed entries under way on this loop: their order key, lease token, and when (monotonic µs) the
    /// claim that took them was sent, which is no later than Redis started their lease.
    var held: [String: (member: String, token: String, claimedAtMicros: Int64)] = [:]
    /// Told (on this loop) when a lease was lost: its attempt must stop, unsettled (`DeliveryEngine`).
    var onLeaseLost: ((String) -> Void)?
    /// Local wall-clock ms of the next due key, from the last claim's reply.
    private var nextDue: Int64?
    var renewTimer: Int?
    private var statsTimer: Int?
    private var random = SystemRandomNumberGenerator()
    var down = false
    /// Set by `run` just before it calls a completion with nil: whether the command was written and may have
    /// run (no reply in time, the connection broke after sending), as opposed to refused or never sent.
    /// Read synchronously by that completion only (`keep`: an unknown outcome is not "nothing kept").
    var lastFailureMayHaveRun = false
    /// Set likewise when the nil stands for a script error (Redis answered, refusing): not "unavailable".
    var lastFailureWasScriptError = false

    init(loop: EventLoop, shared: RedisOutboxShared) {
        self.loop = loop
        self.shared = shared
        var parser = RESPParser()
        // A claim answers whole entries: up to `max_in_flight` of them, each up to the record limit.
        parser.maxBulkBytes = OutboxRecordCodec.maxPayloadBytes + OutboxRecordCodec.headerBytes
        parser.maxArrayCount = 1 + 4 * 4096
        var changed: ((RedisConnection.State, String?) -> Void)?
        connection = RedisConnection(loop: loop, target: shared.target, handshake: shared.handshake,
                                     timeoutMs: shared.timeoutMs, parser: parser, onStateChange: { changed?($0, $1) })
        changed = { [weak self] state, reason in
            guard let self, state != .connecting else { return }
            self.setDown(state == .down, reason: reason)
            // Once per process (the first ready connection asks): off the connection's own callback.
            if state == .ready {
                _ = loop.scheduleTimer(afterMs: 0) { [weak self] in
                    guard let self else { return }
                    self.shared.persistence.ask(on: self.connection)
                }
            }
        }
        connection.connect()
        scheduleStats(afterMs: 100)
    }

    deinit {
        if let renewTimer { loop.cancelTimer(renewTimer) }
        if let statsTimer { loop.cancelTimer(statsTimer) }
    }

    /// The order key's name in Redis: site and juid, or site and entry id for a call without a juid.
    static func member(siteID: String, juid: String, id: String) -> String {
        juid.isEmpty ? "e:\(siteID):\(id)" : "j:\(siteID):\(juid)"
    }

    // MARK: - The request path

    func keep(_ call: DeferredCall, completion: @escaping (Result<OutboxEntry, OutboxRefusal>) -> Void) {
        let id = OutboxFileStore.newID()
        let entry = OutboxEntry(id: id, sequence: 0, siteID: call.siteID, operationID: call.operationID, juid: call.juid,
                                method: call.method, target: call.target, body: call.body, contentType: call.contentType,
                                requestID: call.requestID, createdAtMs: OutboxFileStore.wallClockMs())
        var record: [UInt8] = []
        OutboxRecordCodec.append(.entry(entry), to: &record)
        guard record.count <= OutboxRecordCodec.maxPayloadBytes else {
            return completion(.failure(.unavailable("the call is too large to keep in the outbox; send it without deferring")))
        }
        let member = Self.member(siteID: entry.siteID, juid: entry.juid, id: id)
        run(["keep", member, id], record, [String(entry.accountedBytes), String(shared.maxBytes)]) { [self, shared] reply in
            switch reply {
            case .array(let items?) where items.first == .bulk(Array("kept".utf8)):
                shared.counts.withLock { $0.deferred[entry.siteID, default: 0] += 1 }
                completion(.success(entry))
            case .array(let items?) where items.first == .bulk(Array("full".utf8)):
                completion(.failure(.full(maxBytes: shared.maxBytes)))
            case nil where lastFailureMayHaveRun:
                completion(.failure(.outcomeUnknown(id: id)))
            case nil where lastFailureWasScriptError:
                completion(.failure(.unavailable("Redis refused the outbox's script (the gateway's log says why)")))
            default:
                completion(.failure(Self.unavailable))
            }
        }
    }

    func mustWait(siteID: String, juid: String, completion: @escaping (Result<Bool, OutboxRefusal>) -> Void) {
        // A call without a juid is ordered with no other.
        guard !juid.isEmpty else { return completion(.success(false)) }
        run(["wait", Self.member(siteID: siteID, juid: juid, id: "")]) { reply in
            if case .integer(let exists) = reply { completion(.success(exists != 0)) } else { completion(.failure(Self.unavailable)) }
        }
    }

    func entry(id: String, completion: @escaping (OutboxLookup) -> Void) {
        // Only the ids this outbox makes: nothing else reaches a Redis key name.
        guard Self.isEntryID(id) else { return completion(.unknown) }
        run(["get", id]) { reply in
            guard let reply else { return completion(.unavailable) }
            completion(Self.decode(reply).map(OutboxLookup.found) ?? .unknown)
        }
    }

    static let unavailable = OutboxRefusal.unavailable("Redis for the outbox is unavailable (outbox.redis_url)")

    static func isEntryID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    static func decode(_ reply: RESPValue?) -> OutboxEntry? {
        guard case .bulk(let bytes?)? = reply, case .entry(let entry)? = OutboxRecordCodec.decode(bytes).records.first
        else { return nil }
        return entry
    }

    // MARK: - Delivery

    func claim(limit: Int, completion: @escaping ([OutboxEntry]) -> Void) {
        let sentAt = MonotonicInstant.now().microseconds
        run(["claim", String(shared.leaseMs), String(limit), tokenPrefix]) { [self] reply in
            guard case .array(let items?) = reply, let first = items.first else {
                nextDue = nil
                return completion([])
            }
            if case .bulk(let bytes?) = first, let delay = Int64(String(decoding: bytes, as: UTF8.self).prefix { $0 != "." }) {
                // Redis's clock decides leases; the engine sleeps by its own, so the script answers a distance.
                nextDue = OutboxFileStore.wallClockMs() + max(delay, 5)
            } else {
                nextDue = nil
            }
            var claimed: [OutboxEntry] = []
            var index = 1
            while index + 3 < items.count {
                defer { index += 4 }
                guard case .bulk(let memberBytes?) = items[index], case .bulk(let tokenBytes?) = items[index + 1],
                      case .bulk(let idBytes?) = items[index + 2] else { continue }
                guard let entry = Self.decode(items[index + 3]) else {
                    // Not an entry this outbox wrote: nothing is sent, and the key comes back each lease. The id
                    // names it, never the Redis key (which holds the juid).
                    shared.logger.error("""
                        an outbox entry in Redis cannot be read and is not delivered; drop it \
                        (DELETE /outbox/<id> on the admin listener)
                        """, metadata: ["outbox_entry": .string(String(decoding: idBytes, as: UTF8.self))])
                    continue
                }
                held[entry.id] = (String(decoding: memberBytes, as: UTF8.self), String(decoding: tokenBytes, as: UTF8.self),
                                  sentAt)
                claimed.append(entry)
            }
            if !held.isEmpty { scheduleRenewal() }
            completion(claimed)
        }
    }

    func nextDueAtMs() -> Int64? { nextDue }

    var hasWritesUnderWay: Bool { connection.waitingReplies > 0 }

    /// Whether a claimed entry may still be sent: less than `lease_ms` minus a third of it (the renewal period)
    /// has passed since its claim was sent, so its lease cannot end before the first renewal reaches Redis.
    func mayStillSend(id: String) -> Bool {
        guard let lease = held[id] else { return false }
        let elapsedMs = (MonotonicInstant.now().microseconds - lease.claimedAtMicros) / 1000
        return elapsedMs < Int64(shared.leaseMs - shared.leaseMs / 3)
    }

    func unclaim(id: String) {
        guard let lease = held.removeValue(forKey: id) else { return }
        run(["release", lease.member, lease.token, "0"]) { _ in }
    }

    func settle(_ entry: OutboxEntry, attempt: DeliveryAttempt, body: [UInt8], failure: String?,
                recorded: @escaping (DeliveryVerdict, OutboxUpdate) -> Void) {
        let now = OutboxFileStore.wallClockMs()
        let attempts = entry.attempts + 1
        let verdict = shared.policy.verdict(after: attempt, attemptsMade: attempts, createdAtMs: entry.createdAtMs,
                                            nowMs: now, using: &random)
        var update = OutboxUpdate(id: entry.id, state: .pending, attempts: attempts, nextAttemptAtMs: now,
                                  lastStatus: entry.lastStatus, lastBody: entry.lastBody, lastFailure: failure)
        if case .answered(let status) = attempt {
            update.lastStatus = status
            update.lastBody = Array(body.prefix(OutboxEntry.maxLastBodyBytes))
        }
        var delayMs: Int64 = 0
        switch verdict {
        case .delivered: update.state = .delivered
        case .dead:
            update.state = .dead
            if case .answered = attempt {} else { update.lastFailure = "max_age" }
        case .retry(let atMs):
            update.nextAttemptAtMs = atMs
            delayMs = max(atMs - now, 0)
        }
        record(entry, update, delayMs: delayMs) { [shared] in
            // Counted from the script's `ok`: an attempt whose lease had ended is repeated and counted there.
            shared.counts.withLock { $0.count(attempt, verdict: verdict, site: entry.siteID) }
            recorded(verdict, update)
        }
    }

    func hold(_ entry: OutboxEntry, reason: String, retryAfterMs: Int?) -> (verdict: DeliveryVerdict, update: OutboxUpdate)? {
        let now = OutboxFileStore.wallClockMs()
        let attempt = DeliveryAttempt.held(reason: reason, retryAfterMs: retryAfterMs)
        if reason == "site_not_configured", now >= entry.createdAtMs + shared.policy.maxAgeMs {
            let update = OutboxUpdate(id: entry.id, state: .dead, attempts: entry.attempts, nextAttemptAtMs: now,
                                      lastStatus: entry.lastStatus, lastBody: entry.lastBody, lastFailure: reason)
            shared.counts.withLock { $0.count(attempt, verdict: .dead, site: entry.siteID) }
            record(entry, update, delayMs: 0)
            return (.dead, update)
        }
        let verdict = shared.policy.verdict(after: attempt, attemptsMade: entry.attempts, createdAtMs: entry.createdAtMs,
                                            nowMs: now, using: &random)
        let atMs = if case .retry(let atMs) = verdict { atMs } else { now + Int64(shared.policy.nextHoldMs(retryAfterMs)) }
        shared.counts.withLock { $0.count(attempt, verdict: .retry(atMs: atMs), site: entry.siteID) }
        if let lease = held.removeValue(forKey: entry.id) {
            run(["release", lease.member, lease.token, String(max(atMs - now, 0))]) { _ in }
        }
        return nil
    }

    /// Writes the entry's new state with the settle script; not waited for. A `lost` reply means the lease
    /// ended first (another gateway took the key over and repeats the attempt: at least once).
    private func record(_ entry: OutboxEntry, _ update: OutboxUpdate, delayMs: Int64, recorded: @escaping () -> Void = {}) {
        guard let lease = held.removeValue(forKey: entry.id) else { return }
        var settled = entry
        settled.apply(update)
        // Remembered for status lookups without its body (the user's address), as the file backend does.
        if update.state == .delivered { settled.body = [] }
        var bytes: [UInt8] = []
        OutboxRecordCodec.append(.entry(settled), to: &bytes)
        let outcome = switch update.state {
        case .delivered: "delivered"
        case .dead: "dead"
        case .pending: "retry"
        }
        // The record's size as it is now (its last answer's body included), so `max_bytes` counts its growth.
        let size = update.state == .delivered ? 0 : settled.accountedBytes
        run(["settle", lease.member, lease.token, entry.id, outcome], bytes,
            [String(delayMs), String(shared.keepDeliveredMs), String(size)]) { [shared] reply in
            if reply == .bulk(Array("ok".utf8)) {
                recorded()
            } else if reply == .bulk(Array("lost".utf8)) {
                shared.logger.notice("""
                    an outbox entry's lease ended before its attempt was recorded; another gateway repeats the \
                    attempt (raise outbox.lease_ms if attempts take that long)
                    """, metadata: ["outbox_entry": .string(entry.id)])
            } else if reply == .bulk(Array("dropped".utf8)) {
                shared.logger.notice("""
                    an outbox entry was dropped by an operator while its attempt was under way; the attempt's \
                    result is not kept
                    """, metadata: ["outbox_entry": .string(entry.id)])
            }
        }
    }

    /// Reads the Redis-wide readings for `/metrics` every 5 s, one loop of the process at a time (each read
    /// also moves on, by one slice, a repair of the per-site sets, begun when an older version's data lacks
    /// them). A loop whose timer finds a read made by another within 4.5 s leaves it; the slack keeps timers
    /// that drift apart from skipping two rounds in a row.
    private func scheduleStats(afterMs delay: Int) {
        statsTimer = loop.scheduleTimer(afterMs: delay) { [weak self] in
            guard let self else { return }
            if self.shared.claimStatsRead(intervalMs: 4500) {
                self.run(["stats"]) { [shared = self.shared] reply in
                    guard case .array(let items?) = reply, let totals = RedisOutboxTotals(items) else {
                        return shared.releaseStatsClaim()
                    }
                    shared.totals.withLock { $0 = totals }
                }
            }
            self.scheduleStats(afterMs: 5000)
        }
    }
}
