#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateCore
import JustGateReactor
import JustGateServer
import Logging
import Synchronization

/// The file backend of the outbox: the in-memory queue every event loop shares, and the segment files that make
/// it survive a crash, written by a thread of its own with one `fdatasync` per batch (group commit).
///
/// A deferral is admitted to the queue at once (it holds its place behind earlier calls of its site and juid,
/// and its bytes), its record is queued for the writer, and its completion runs once the batch holding it is on
/// disk: only then does the site get its 202. Many deferrals arriving while the writer syncs go out together
/// in the next batch, so the disk's flush rate bounds batches per second, not deferrals per second; a batch
/// short of the deferrals the writer expects waits for them a little first (`gather`), and records go into
/// zero-filled room in place so a sync commits no file size (`OutboxSegmentFiles`): both cut the sync's cost
/// per deferral. State changes (an attempt's result, delivered, dead, dropped) are appended as small records
/// without waiting: a crash that loses one repeats an attempt, which at-least-once delivery allows.
///
/// On open, every segment is replayed into the queue; the newest is cut at its last whole record (a torn tail,
/// or the zeros of its unused room).
/// The oldest segment is compacted away once a newer one exists: entries of it still pending or dead are
/// written again (whole, with their current state) at the end of the live segment, ahead of the records queued
/// meanwhile, so replay always ends on the newest state, and the old segment is deleted.
///
/// A hand-over (`serve --replace`) opens the store while the process being replaced still holds the directory:
/// the store then waits for it (`OutboxFileStore+TakeOver`), and that process lets go as its stop begins
/// (`release`).
public final class OutboxFileStore: Sendable {
    /// One record to write and who waits for it. The record is encoded (and checksummed) by the writer thread,
    /// not by the event loop that queued it under the lock: a deferral or a delivery's settle then costs the
    /// loop an append to this list, not an encoding (issue 25: at most 5 µs of CPU per deferral).
    struct PendingWrite {
        var record: OutboxRecord
        /// The new entry this write holds, and its site (for the deferred count), if any.
        var entry: (id: String, siteID: String)?
        var droppedIDs: [String]
        var completion: (@Sendable (Bool) -> Void)?
    }

    struct Shared {
        var queue: OutboxQueue
        var writes: [PendingWrite] = []
        var stopping = false
        /// Whether the replayed queue is in force; false while a take-over waits for the directory's lock.
        var phase = Phase.open
        /// Deferrals that arrived while a take-over waited, oldest first: admitted once the outbox is open.
        var held: [HeldCall] = []
        /// Set by `release`: no new deferral and no new delivery; results of deliveries under way are still
        /// recorded.
        var sealed = false
        /// A sync of the live segment failed: Linux may have dropped the unsynced pages and will not report it
        /// again, so nothing more is acknowledged as durable until a restart replays what the disk really holds.
        var syncFailed = false
        var random = SystemRandomNumberGenerator()
        var counts = OutboxCounts()
        /// New entries in `writes` (deferrals waiting for a batch), and, while the writer gathers a batch, how many
        /// it waits for (0: not gathering): the deferral that brings `queuedDeferrals` to it wakes the writer.
        var queuedDeferrals = 0
        var gatherTarget = 0
    }

    public let policy: DeliveryPolicy
    public let directory: String
    let shared: Mutex<Shared>
    let wake = DispatchSemaphore(value: 0)
    /// Signalled (under the lock) when a gathering batch holds as many deferrals as the writer waits for.
    let gathered = DispatchSemaphore(value: 0)
    let finished = DispatchSemaphore(value: 0)
    let nowMs: @Sendable () -> Int64
    /// How long a deferral that arrives during a take-over waits for the outbox before it is refused (503).
    let heldCallPatienceMs: Int64

    /// Opens (creating if needed) the outbox under `config.path`, replays it and starts the writer thread.
    /// - Parameters:
    ///   - segmentBytes: a live segment this large is closed and a new one begun (smaller in tests).
    ///   - prepareBytes: how far ahead of its records the live segment is zero-filled (`OutboxSegmentFiles`); 0
    ///     (tests of a full disk) writes no room, so every record grows the file.
    ///   - nowMs: wall-clock milliseconds (tests pass their own).
    ///   - takeOver: `serve --replace`: when another process holds the directory, start anyway and open the
    ///     outbox once it lets go, waiting at most `takeOverPatienceMs` (see `OutboxFileStore+TakeOver`).
    public init(config: OutboxConfig, segmentBytes: Int = 64 << 20, prepareBytes: Int = 1 << 20, logger: Logger,
                nowMs: @escaping @Sendable () -> Int64 = OutboxFileStore.wallClockMs, takeOver: Bool = false,
                takeOverPatienceMs: Int64 = OutboxFileStore.takeOverPatienceMs,
                heldCallPatienceMs: Int64 = OutboxFileStore.heldCallPatienceMs) throws {
        let files = OutboxSegmentFiles(directory: config.path, prepareBytes: prepareBytes)
        var queue = OutboxQueue(maxBytes: config.maxBytes)
        var placement = SegmentPlacement()
        var awaiting = false
        do throws(OutboxSegmentFiles.Failure) {
            if try files.lock() {
                try OutboxFileStore.load(files, into: &queue, placement: &placement, logger: logger)
            } else if takeOver {
                awaiting = true
            } else {
                throw OutboxSegmentFiles.Failure(description: files.heldDescription)
            }
        } catch {
            files.close()
            throw GatewayStartError("cannot open the outbox: \(error)")
        }
        policy = DeliveryPolicy(config)
        directory = config.path
        self.nowMs = nowMs
        self.heldCallPatienceMs = heldCallPatienceMs
        var initial = Shared(queue: queue)
        if awaiting { initial.phase = .awaiting }
        shared = Mutex(initial)
        let writer = WriterState(files: files, placement: placement, segmentBytes: segmentBytes, logger: logger)
        let maxBytes = config.maxBytes
        let takingOver = awaiting
        let thread = Thread { [self] in
            ThreadName.setCurrent("jg-outbox")
            if takingOver {
                guard awaitOutbox(writer, maxBytes: maxBytes, patienceMs: takeOverPatienceMs) else {
                    idleUntilStopped()
                    return
                }
            }
            run(writer)
        }
        thread.start()
    }

    /// Takes the replayed state of every segment and opens a new live one. Only the newest segment (the live
    /// one when the last run ended) may end in a torn record or in zeros, which are cut; a bad record (or a
    /// zero length) in an older segment is
    /// damage, not a crash mid-write, and the whole records after it may be acknowledged calls, so the outbox
    /// refuses to open, naming the file and what to do, rather than cut them.
    static func load(_ files: OutboxSegmentFiles, into queue: inout OutboxQueue, placement: inout SegmentPlacement,
                     logger: Logger) throws(OutboxSegmentFiles.Failure) {
        let numbers = files.numbers()
        for number in numbers {
            let bytes = try files.read(number)
            let decoded = OutboxRecordCodec.decode(bytes)
            if decoded.validBytes < bytes.count, number != numbers.last {
                throw damagedSegment(files.path(of: number), validBytes: decoded.validBytes, size: bytes.count)
            }
            if decoded.validBytes < bytes.count {
                // Zeros only: the live segment's unused, zero-filled room (`OutboxSegmentFiles.prepare`) of a
                // gateway that did not stop (killed, power cut); cut like a torn tail, which is not worth a warning.
                try files.truncate(number, to: decoded.validBytes)
                if bytes[decoded.validBytes...].contains(where: { $0 != 0 }) {
                    logger.warning("outbox segment had a torn tail (a crash mid-write); cut at its last whole record",
                                   metadata: ["path": .string(files.path(of: number)),
                                              "bytes_cut": .stringConvertible(bytes.count - decoded.validBytes)])
                }
            }
            for record in decoded.records {
                OutboxFileStore.replay(record, into: &queue)
                placement.record(record, in: number)
            }
        }
        try files.openLive((files.numbers().last ?? 0) + 1)
        placement.touch(files.liveNumber)
    }

    private static func damagedSegment(_ path: String, validBytes: Int, size: Int) -> OutboxSegmentFiles.Failure {
        OutboxSegmentFiles.Failure(description: """
            outbox segment \(path) has a damaged record at byte \(validBytes) of \(size); it is not the newest \
            segment, so this is not a torn write from a crash but damage (a disk error, an edit), and the \
            \(size - validBytes) bytes from there on may hold acknowledged calls: nothing was cut. Restore the file \
            from a backup; or, to start without what follows the damage (those calls are then lost), cut it there \
            with truncate -s \(validBytes) \(path) and start again
            """)
    }

    private static func replay(_ record: OutboxRecord, into queue: inout OutboxQueue) {
        switch record {
        case .entry(let entry): queue.restore(entry)
        case .update(let update): queue.apply(update)
        case .dropped(let id): queue.drop(id: id)
        }
    }

    /// How long a segment found still mostly pending waits before compaction looks at it again.
    static let mostlyPendingRetryMs: Int64 = 30_000

    public static let wallClockMs: @Sendable () -> Int64 = {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    // MARK: - Deferring and looking up

    /// Keeps `call`; `completion` runs on the writer thread with the entry once it is durable, or at once (on
    /// this thread) with `.full`, or after a failed write with `.unavailable`. The caller hops back to its loop
    /// (`OutboxLane`).
    public func keep(_ call: DeferredCall, completion: @escaping @Sendable (Result<OutboxEntry, OutboxRefusal>) -> Void) {
        let id = OutboxFileStore.newID()
        let now = nowMs()
        let admitted: Result<Bool, OutboxRefusal> = shared.withLock { shared in
            guard !shared.stopping, !shared.sealed else { return .failure(.unavailable("the gateway is stopping")) }
            guard !shared.syncFailed else {
                return .failure(.unavailable("the outbox could not be synced to disk; check the disk and restart justgate"))
            }
            switch shared.phase {
            case .open:
                return admit(call, id: id, nowMs: now, completion: completion, in: &shared)
            case .awaiting:
                // Behind whatever the replaced process kept: admitted once the outbox is open, in arrival order.
                shared.held.append(HeldCall(call: call, id: id, keptAtMs: now, completion: completion))
                return .success(false)
            case .gaveUp:
                return .failure(OutboxFileStore.notTakenOver)
            }
        }
        switch admitted {
        case .success(let wasIdle):
            if wasIdle { wake.signal() }
        case .failure(let refusal):
            completion(.failure(refusal))
        }
    }

    /// Puts a new entry in the queue and its record in the writer's next batch; whether the writer was idle.
    func admit(_ call: DeferredCall, id: String, nowMs now: Int64,
               completion: @escaping @Sendable (Result<OutboxEntry, OutboxRefusal>) -> Void,
               in shared: inout Shared) -> Result<Bool, OutboxRefusal> {
        let entry = OutboxEntry(id: id, sequence: shared.queue.takeSequence(), siteID: call.siteID,
                                operationID: call.operationID, juid: call.juid, method: call.method,
                                target: call.target, body: call.body, contentType: call.contentType,
                                requestID: call.requestID, createdAtMs: now)
        do throws(OutboxQueue.Full) {
            try shared.queue.admit(entry, durable: false)
        } catch {
            return .failure(.full(maxBytes: error.maxBytes))
        }
        // Replay stops at a record larger than this: acknowledging one would lose it (and what follows).
        // `accountedBytes` is more than the payload's size (it counts 256 bytes for the fixed fields and the
        // length prefixes, which take well under that for a new entry), so this refuses nothing replay keeps.
        guard entry.accountedBytes <= OutboxRecordCodec.maxPayloadBytes else {
            shared.queue.drop(id: id)
            return .failure(.unavailable("the call is too large to keep in the outbox (more than "
                                         + "\(OutboxRecordCodec.maxPayloadBytes) bytes); send it without deferring"))
        }
        let wasIdle = shared.writes.isEmpty
        // The writer confirms (or drops) the entry in the queue before this runs: see `write`.
        shared.writes.append(PendingWrite(record: .entry(entry), entry: (id, call.siteID), droppedIDs: [], completion: { durable in
            completion(durable ? .success(entry) : .failure(.unavailable("the outbox could not be written to disk")))
        }))
        shared.queuedDeferrals += 1
        if shared.queuedDeferrals == shared.gatherTarget { gathered.signal() }
        return .success(wasIdle)
    }

    /// Whether calls of this site and juid are still waiting: a new one must wait behind them (item 2c).
    public func hasPending(siteID: String, juid: String) -> Bool {
        shared.withLock { shared in
            switch shared.phase {
            case .open: shared.queue.hasPending(OutboxOrderKey(siteID: siteID, juid: juid))
            // The replaced process may still hold calls of this juid: a new one waits behind them.
            case .awaiting: true
            case .gaveUp: false
            }
        }
    }

    /// The entry with `id`, if this outbox knows it (delivered ones are remembered for a while).
    public func entry(id: String) -> OutboxEntry? {
        shared.withLock { $0.queue.entry(id: id) }
    }

    /// Up to `limit` entries in `state` (of `site`, when given), oldest first (`GET /outbox`).
    public func list(state: OutboxEntry.State, site: String? = nil, limit: Int) -> [OutboxEntry] {
        shared.withLock { $0.queue.list(state: state, site: site, limit: limit) }
    }

    /// What `/metrics` shows of the outbox: per-site depth, oldest age and dead entries, bytes, and the totals.
    public func readings(nowMs: Int64) -> OutboxReadings {
        shared.withLock { shared in
            OutboxReadings(sites: shared.queue.siteReadings().mapValues { reading in
                (pending: reading.pending, dead: reading.dead,
                 oldestAgeSeconds: reading.pending > 0 ? max(0, Double(nowMs - reading.oldestCreatedAtMs) / 1000) : 0)
            }, bytes: shared.queue.accountedBytes, maxBytes: shared.queue.maxBytes, counts: shared.counts)
        }
    }

    /// Entry counts and bytes, for metrics and tests.
    public var depth: (pending: Int, bytes: Int) {
        shared.withLock { ($0.queue.pendingCount, $0.queue.accountedBytes) }
    }

    // MARK: - Delivery (called by `DeliveryEngine` on its loop)

    func claimDue(limit: Int) -> [OutboxEntry] {
        let now = nowMs()
        return shared.withLock { $0.sealed ? [] : $0.queue.claimDue(nowMs: now, limit: limit) }
    }

    func nextDueAtMs() -> Int64? {
        shared.withLock { $0.queue.nextDueAtMs() }
    }

    func unclaim(id: String) {
        shared.withLock { $0.queue.unclaim(id: id) }
    }

    /// Records an attempt's result: the verdict is the policy's, the record is appended without waiting.
    /// - Parameters:
    ///   - status: the upstream's status, when it answered; `body` its screened body.
    func settle(_ entry: OutboxEntry, attempt: DeliveryAttempt, body: [UInt8] = [],
                failure: String? = nil) -> (verdict: DeliveryVerdict, update: OutboxUpdate) {
        let now = nowMs()
        let counts = if case .held = attempt { false } else { true }
        let attempts = entry.attempts + (counts ? 1 : 0)
        return shared.withLock { shared in
            let verdict = policy.verdict(after: attempt, attemptsMade: attempts, createdAtMs: entry.createdAtMs,
                                         nowMs: now, using: &shared.random)
            var update = OutboxUpdate(id: entry.id, state: .pending, attempts: attempts, nextAttemptAtMs: now,
                                      lastStatus: entry.lastStatus, lastBody: entry.lastBody, lastFailure: failure)
            // Stopping: the writer may be gone, so nothing more is changed (the attempt repeats after restart).
            guard !shared.stopping else { return (verdict, update) }
            if case .answered(let status) = attempt {
                update.lastStatus = status
                update.lastBody = Array(body.prefix(OutboxEntry.maxLastBodyBytes))
            }
            switch verdict {
            case .delivered: update.state = .delivered
            case .dead:
                update.state = .dead
                if case .answered = attempt {} else { update.lastFailure = "max_age" }
            case .retry(let atMs): update.nextAttemptAtMs = atMs
            }
            shared.queue.apply(update)
            enqueue(.update(update), in: &shared)
            shared.counts.count(attempt, verdict: verdict, site: entry.siteID)
            return (verdict, update)
        }
    }

    /// No call was made (circuit open, `max_in_flight` reached, the site left the config): the entry waits
    /// `retryAfterMs` (nil: the first configured wait) in memory only. Nothing is written, since its attempts
    /// and state are unchanged and a crash that forgets the wait only makes it due sooner; writing a record per
    /// hold filled the disk during an outage. A hold never ends an entry (its last attempt at `max_age` is
    /// still made), except that of a site no longer configured, which is marked dead (and recorded) once
    /// `max_age` has passed. Returns the verdict and update only when something was recorded.
    func hold(_ entry: OutboxEntry, reason: String,
              retryAfterMs: Int?) -> (verdict: DeliveryVerdict, update: OutboxUpdate)? {
        let now = nowMs()
        if reason == "site_not_configured", now >= entry.createdAtMs + policy.maxAgeMs {
            return shared.withLock { shared in
                guard !shared.stopping else { return nil }
                let update = OutboxUpdate(id: entry.id, state: .dead, attempts: entry.attempts, nextAttemptAtMs: now,
                                          lastStatus: entry.lastStatus, lastBody: entry.lastBody, lastFailure: reason)
                shared.queue.apply(update)
                enqueue(.update(update), in: &shared)
                shared.counts.count(.held(reason: reason, retryAfterMs: retryAfterMs), verdict: .dead, site: entry.siteID)
                return (.dead, update)
            }
        }
        shared.withLock { shared in
            guard !shared.stopping else { return }
            let verdict = policy.verdict(after: .held(reason: reason, retryAfterMs: retryAfterMs),
                                         attemptsMade: entry.attempts, createdAtMs: entry.createdAtMs, nowMs: now,
                                         using: &shared.random)
            let atMs = if case .retry(let atMs) = verdict { atMs } else { now + Int64(policy.nextHoldMs(retryAfterMs)) }
            let current = shared.queue.entry(id: entry.id) ?? entry
            shared.queue.apply(OutboxUpdate(id: entry.id, state: current.state, attempts: current.attempts,
                                            nextAttemptAtMs: atMs, lastStatus: current.lastStatus,
                                            lastBody: current.lastBody, lastFailure: current.lastFailure))
            shared.counts.count(.held(reason: reason, retryAfterMs: retryAfterMs), verdict: .retry(atMs: atMs),
                                site: entry.siteID)
        }
        return nil
    }

    /// An operator's retry of a dead entry: pending again, due now, attempts kept.
    public func retry(id: String) -> Bool {
        shared.withLock { shared in
            guard !shared.stopping, let entry = shared.queue.entry(id: id), entry.state == .dead else { return false }
            let update = OutboxUpdate(id: id, state: .pending, attempts: entry.attempts, nextAttemptAtMs: nowMs(),
                                      lastStatus: entry.lastStatus, lastBody: entry.lastBody, lastFailure: entry.lastFailure)
            shared.queue.apply(update)
            enqueue(.update(update), in: &shared)
            return true
        }
    }

    /// An operator's removal of an entry (never delivered, or delivered and no longer of interest).
    public func drop(id: String) -> Bool {
        shared.withLock { shared in
            guard !shared.stopping, shared.queue.entry(id: id) != nil else { return false }
            shared.queue.drop(id: id)
            enqueue(.dropped(id: id), in: &shared)
            return true
        }
    }

    private func enqueue(_ record: OutboxRecord, in shared: inout Shared) {
        let dropped = if case .dropped(let id) = record { [id] } else { [String]() }
        if shared.writes.isEmpty { wake.signal() }
        shared.writes.append(PendingWrite(record: record, entry: nil, droppedIDs: dropped, completion: nil))
    }

    /// Writes everything queued, syncs it and stops the writer; later deferrals and state changes are refused
    /// (a change made after the writer's last batch would be applied in memory and never written). Every
    /// caller returns only once the writer has finished, not just the first.
    public func stop() {
        let first = shared.withLock { shared -> Bool in
            defer { shared.stopping = true }
            return !shared.stopping
        }
        if first { wake.signal() }
        finished.wait()
        finished.signal()   // for the next caller
    }

    /// 128 random bits as 32 hex digits: a delivery's `Location` must not be guessable from another's.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        let halves = [generator.next(), generator.next()]
        let random = halves.flatMap { half in (0..<8).map { UInt8(truncatingIfNeeded: half >> UInt64(8 * $0)) } }
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for (index, byte) in random.enumerated() {
                buffer[2 * index] = digits.utf8Start[Int(byte >> 4)]
                buffer[2 * index + 1] = digits.utf8Start[Int(byte & 0xF)]
            }
            return 32
        }
    }

    // MARK: - The writer thread

    /// What only the writer thread touches. `@unchecked Sendable` because it is handed to the writer thread
    /// once, when the thread starts, and touched by no other thread after that.
    final class WriterState: @unchecked Sendable {
        let files: OutboxSegmentFiles
        var placement: SegmentPlacement
        let segmentBytes: Int
        let logger: Logger
        var lastCompactionMs: Int64 = 0
        /// How long after `lastCompactionMs` the oldest segment is looked at again: a second, or longer after it
        /// was found still mostly pending (looking means a queue lookup per entry it holds, under the lock).
        var compactionIntervalMs: Int64 = 1000
        /// After the oldest segment was found mostly pending: how many entries it held, and how many records
        /// were written since. It is looked at again sooner once that many records, halved, were written (enough
        /// results that it may have become mostly delivered), so each look is paid for by the writes before it.
        var skippedEntries = 0
        var recordsSinceSkip = 0
        /// Deferrals the last batch acknowledged plus those already queued when it was done: how many the next
        /// batch waits for (`gather`). With callers that send their next call once answered, that is all of them.
        var expectedDeferrals = 0
        /// How long the last `fdatasync` took, in nanoseconds: the most a batch waits for more deferrals.
        var lastSyncNanoseconds: UInt64 = 0

        init(files: OutboxSegmentFiles, placement: SegmentPlacement, segmentBytes: Int, logger: Logger) {
            self.files = files
            self.placement = placement
            self.segmentBytes = segmentBytes
            self.logger = logger
        }
    }

    func run(_ writer: WriterState) {
        var compactSoon = true
        while true {
            if !compactSoon && !shared.withLock({ $0.stopping }) { _ = wake.wait(timeout: .now() + .seconds(1)) }
            let oldest = writer.placement.oldestSegment(before: writer.files.liveNumber)
            let now = nowMs()
            let changedEnough = writer.skippedEntries > 0 && writer.recordsSinceSkip * 2 >= writer.skippedEntries
            var compacting = oldest != nil
                && (compactSoon || changedEnough || now - writer.lastCompactionMs >= writer.compactionIntervalMs)
            var carriedNow: [OutboxEntry] = []
            if compacting, let oldest {
                writer.skippedEntries = 0
                writer.recordsSinceSkip = 0
                if let carried = gatherCarried(from: oldest, writer: writer) {
                    carriedNow = carried
                } else {
                    // A segment still mostly pending waits: carrying more than half a segment forward could fill
                    // the live one, which then becomes the oldest and is carried again, rewriting the whole
                    // pending set in a loop once it is a segment or more.
                    compacting = false
                    writer.lastCompactionMs = now
                    writer.compactionIntervalMs = OutboxFileStore.mostlyPendingRetryMs
                    writer.skippedEntries = max(1, writer.placement.ids(in: oldest).count)
                }
            }
            gather(writer)
            // Taken after the gathering: every change made meanwhile is in it, and is written after the carried
            // copies (see `write`).
            let (batch, stopping) = shared.withLock { shared in
                let batch = shared.writes
                shared.writes = []
                shared.queuedDeferrals = 0
                return (batch, shared.stopping)
            }
            compactSoon = false
            writer.recordsSinceSkip += batch.count
            var written = true
            if !batch.isEmpty || !carriedNow.isEmpty {
                written = write(batch, carried: carriedNow, writer: writer)
            }
            // A segment goes only once what was carried out of it is on disk.
            if compacting, written, let oldest {
                writer.files.remove(oldest)
                writer.placement.forget(oldest)
                writer.lastCompactionMs = now
                writer.compactionIntervalMs = 1000
                compactSoon = writer.placement.oldestSegment(before: writer.files.liveNumber) != nil
            }
            if stopping && !written {
                // The last tries failed: stop anyway; a lost state change repeats an attempt after restart.
                let lost = shared.withLock { shared in
                    defer {
                        shared.writes = []
                        shared.queuedDeferrals = 0
                    }
                    return shared.writes.count
                }
                writer.logger.error("""
                    outbox stopped with state changes it could not write; their attempts may be repeated after a \
                    restart
                    """, metadata: ["records": .stringConvertible(lost)])
            }
            if stopping && (batch.isEmpty || !written) && shared.withLock({ $0.writes.isEmpty }) {
                // Not required (the next start cuts the zeros off the newest segment), but a stopped outbox's
                // files then hold records only, for whoever reads or copies them.
                do throws(OutboxSegmentFiles.Failure) {
                    try writer.files.trimLive()
                } catch {
                    writer.logger.warning("cannot cut the unused room off the live outbox segment; the next start does",
                                          metadata: ["reason": .string(error.description)])
                }
                writer.files.close()
                finished.signal()
                return
            }
        }
    }

    /// The most a batch waits for more deferrals (`gather`), however slow the last sync was.
    static let gatherLimitNanoseconds: UInt64 = 250_000

    /// Group commit's gather: before taking a batch that holds fewer deferrals than the writer expects (those the
    /// last batch acknowledged plus those queued meanwhile), waits for the rest, at most as long as the last
    /// `fdatasync` took and never over `gatherLimitNanoseconds`.
    ///
    /// Why: each batch costs a `fdatasync`, most of a deferral's CPU when a batch holds a few (the kernel's flush,
    /// a VM exit on a virtual disk; bench/outbox/cost.sh). Callers that send their next call once answered
    /// arrive a little apart, and without a wait the first of them starts a sync alone while the others queue
    /// for the next one: with 8 connections batches held about 4 deferrals instead of 8. The wait is bounded by
    /// one sync's duration: a deferral it delays would otherwise have waited for a whole sync more had it
    /// missed the batch, and a disk that syncs in tens of microseconds is not made to wait hundreds. It only
    /// starts when a deferral is waiting and the last batch acknowledged more than one (a lone caller never
    /// waits), and the deferral that completes the expected count ends it at once. Never while stopping.
    func gather(_ writer: WriterState) {
        let expected = writer.expectedDeferrals
        let limit = min(writer.lastSyncNanoseconds, OutboxFileStore.gatherLimitNanoseconds)
        guard expected > 1, limit > 0 else { return }
        let waiting = shared.withLock { shared -> Bool in
            guard !shared.stopping, shared.queuedDeferrals > 0, shared.queuedDeferrals < expected else { return false }
            shared.gatherTarget = expected
            return true
        }
        guard waiting else { return }
        _ = gathered.wait(timeout: .now() + .nanoseconds(Int(limit)))
        shared.withLock { $0.gatherTarget = 0 }
        // A signal given after the wait ran out (under the lock, so before the line above): not for the next one.
        while gathered.wait(timeout: .now()) == .success {}
    }

    /// The pending and dead entries of `segment` as they are now, or nil when they take more than half a
    /// segment (compaction then waits). Gathered a chunk per lock, so a segment of a hundred thousand entries
    /// never holds the lock (and the event loops asking `hasPending` for every live call) for the whole scan:
    /// a chunk's entries may change after it is gathered, and such a change is queued and written after the
    /// carried copies.
    private func gatherCarried(from segment: Int, writer: WriterState) -> [OutboxEntry]? {
        let ids = writer.placement.ids(in: segment)
        var carried: [OutboxEntry] = []
        var bytes = 0
        var start = 0
        while start < ids.count {
            let chunk = ids[start..<min(start + 1024, ids.count)]
            start += chunk.count
            let found = shared.withLock { shared in
                chunk.compactMap { id in shared.queue.entry(id: id).flatMap { $0.state == .delivered ? nil : $0 } }
            }
            bytes += found.reduce(0) { $0 + $1.accountedBytes }
            if bytes * 2 > writer.segmentBytes { return nil }
            carried += found
        }
        return carried
    }

    /// Appends and syncs one batch, then runs its completions; whether it reached the disk. Carried entries go
    /// first: an update queued before one was gathered only repeats the state the carried copy already has
    /// (an update holds the whole state), and one queued after it must come after it.
    private func write(_ batch: [PendingWrite], carried: [OutboxEntry], writer: WriterState) -> Bool {
        var bytes: [UInt8] = []
        for entry in carried { OutboxRecordCodec.append(.entry(entry), to: &bytes) }
        for pending in batch { OutboxRecordCodec.append(pending.record, to: &bytes) }
        let live = writer.files.liveNumber
        let before = writer.files.liveSize
        var durable = true
        var cutBack = true
        do throws(OutboxSegmentFiles.Failure) {
            try writer.files.append(bytes)
        } catch {
            durable = false
            writer.logger.error("""
                outbox write failed; the deferrals of this batch were refused with 503, its state changes are tried \
                again
                """, metadata: ["reason": .string(error.description)])
        }
        if durable {
            do throws(OutboxSegmentFiles.Failure) {
                let started = DispatchTime.now().uptimeNanoseconds
                try writer.files.sync()
                writer.lastSyncNanoseconds = DispatchTime.now().uptimeNanoseconds - started
            } catch {
                durable = false
                shared.withLock { $0.syncFailed = true }
                writer.logger.error("""
                    outbox sync failed; the deferrals of this batch were refused with 503, and every later deferral is \
                    refused until a restart (a failed sync cannot be retried): check the disk, then restart justgate
                    """, metadata: ["reason": .string(error.description)])
            }
        }
        if !durable {
            // What this batch appended must never reach the disk: its deferrals were refused.
            do throws(OutboxSegmentFiles.Failure) {
                try writer.files.cutLive(to: before)
            } catch {
                cutBack = false
                writer.logger.error("cannot cut the outbox segment back after a failed write",
                                    metadata: ["reason": .string(error.description)])
            }
        }
        if durable {
            for entry in carried { writer.placement.place(entry.id, in: live) }
            for pending in batch {
                if let entry = pending.entry { writer.placement.place(entry.id, in: live) }
                for id in pending.droppedIDs { writer.placement.remove(id) }
            }
        }
        // One lock for the whole batch: the new entries become due (or, unwritten, give up their place), and
        // unwritten state changes (already applied in memory) go back to the front of the queue.
        let acknowledged = batch.reduce(0) { $0 + ($1.entry == nil ? 0 : 1) }
        writer.expectedDeferrals = shared.withLock { shared in
            if !durable { shared.writes.insert(contentsOf: batch.filter { $0.entry == nil }, at: 0) }
            for case let (id, siteID)? in batch.map(\.entry) {
                if durable {
                    shared.queue.confirm(id: id)
                    shared.counts.deferred[siteID, default: 0] += 1
                } else {
                    shared.queue.drop(id: id)
                }
            }
            return durable ? acknowledged + shared.queuedDeferrals : 0
        }
        for pending in batch { pending.completion?(durable) }
        if !cutBack || writer.files.liveSize >= writer.segmentBytes {
            do throws(OutboxSegmentFiles.Failure) {
                // The closed segment must end in its last record before the next one exists: only the newest
                // segment may end in zeros. A segment whose failed batch could not be cut is closed anyway (its
                // tail is not ours to keep writing after; the next start names it).
                do throws(OutboxSegmentFiles.Failure) {
                    try writer.files.trimLive()
                } catch {
                    if cutBack { throw error }
                }
                try writer.files.openLive(live + 1)
                writer.placement.touch(live + 1)
            } catch {
                writer.logger.error("cannot begin a new outbox segment", metadata: ["reason": .string(error.description)])
            }
        }
        // After the completions: the zeros are written while the next deferrals gather, and synced with them.
        // Not after a failed write or sync: a disk that just refused is not asked for another MiB.
        if durable { writer.files.prepare(limit: writer.segmentBytes) }
        return durable
    }
}

/// Which segment holds the latest whole record of each entry: what compaction must carry forward before it
/// deletes a segment.
struct SegmentPlacement {
    private var segmentOf: [String: Int] = [:]
    private var idsBySegment: [Int: Set<String>] = [:]

    mutating func record(_ record: OutboxRecord, in segment: Int) {
        switch record {
        case .entry(let entry): place(entry.id, in: segment)
        case .dropped(let id): remove(id)
        case .update: touch(segment)
        }
    }

    /// Makes `segment` known even while it holds no entry's latest record, so it is compacted in its turn.
    mutating func touch(_ segment: Int) {
        if idsBySegment[segment] == nil { idsBySegment[segment] = [] }
    }

    mutating func place(_ id: String, in segment: Int) {
        remove(id)
        segmentOf[id] = segment
        idsBySegment[segment, default: []].insert(id)
    }

    mutating func remove(_ id: String) {
        guard let old = segmentOf.removeValue(forKey: id) else { return }
        idsBySegment[old]?.remove(id)
    }

    func ids(in segment: Int) -> [String] { Array(idsBySegment[segment] ?? []) }

    /// The oldest segment below `live`, if any.
    func oldestSegment(before live: Int) -> Int? {
        idsBySegment.keys.filter { $0 < live }.min()
    }

    mutating func forget(_ segment: Int) {
        for id in idsBySegment[segment] ?? [] where segmentOf[id] == segment { segmentOf[id] = nil }
        idsBySegment[segment] = nil
    }
}
