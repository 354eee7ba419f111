#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateCore
import Logging

/// The outbox's part in a hand-over (`serve --replace`): one process at a time may own an outbox directory (its
/// `flock`), so the new process cannot open the outbox while the old one drains.
///
/// Why this way: the new process must serve at once (that is what a hand-over is for), and the old one has no
/// use for its outbox once it stops: a stopping gateway should not start deliveries it may not finish. So the
/// old process lets go as soon as its stop begins (`release`: no new deferral or delivery, results of the
/// deliveries under way recorded for up to `releasePatienceMs`, everything fsynced, lock released), and the new
/// one opens the outbox the moment the lock is free: it tries every `takeOverPollMs` on the writer thread, for
/// at most `takeOverPatienceMs`, logging when it starts waiting, once more after `takeOverWarningMs`, and when
/// it has the outbox or gives up. Nothing kept is lost: the new process replays every segment as a plain start
/// does, and its engines deliver what was pending within a second (their poll).
///
/// While it waits, the new process cannot know which calls the old one holds, so every call that could be
/// deferred is (`hasPending` says yes: a later call must not overtake an earlier one of its juid), and waits
/// in memory up to `heldCallPatienceMs`: admitted behind everything replayed once the outbox opens (the site
/// gets its 202 when it is on disk), or refused with 503 and a reason to retry if the wait is longer. A
/// take-over that gives up leaves deferral unavailable (503) until the gateway is restarted, and says so.
extension OutboxFileStore {
    /// Where a take-over stands.
    enum Phase: Sendable {
        /// The replayed queue is in force (the usual case).
        case open
        /// Waiting for the process being replaced to let go of the directory.
        case awaiting
        /// The wait ran out (or the directory could not be read): no deferral until a restart.
        case gaveUp
    }

    /// A deferral that arrived while a take-over waited.
    struct HeldCall: Sendable {
        var call: DeferredCall
        var id: String
        var keptAtMs: Int64
        var completion: @Sendable (Result<OutboxEntry, OutboxRefusal>) -> Void
    }

    /// How long a take-over waits for the replaced process at most: well beyond a drain (`shutdown.grace_ms`)
    /// and a runbook's pause between starting the new process and stopping the old.
    public static let takeOverPatienceMs: Int64 = 120_000
    /// When a take-over still waiting says so in the log.
    static let takeOverWarningMs: Int64 = 10_000
    static let takeOverPollMs: Int64 = 50
    /// How long one deferral waits for a take-over: short, since the site's request waits with it.
    public static let heldCallPatienceMs: Int64 = 2_000
    /// How long `release` lets deliveries under way record their results before it closes the outbox.
    public static let releasePatienceMs: Int64 = 2_000

    static let notTakenOver = OutboxRefusal.unavailable("""
        the outbox could not be taken over from the replaced process (see the log); restart this gateway once \
        that process has stopped
        """)

    // MARK: - The process being replaced

    /// As a stopping gateway's drain begins: stops deferring (a call that would be deferred gets 503) and
    /// starting deliveries, waits up to `patienceMs` for the results of deliveries under way, then writes and
    /// syncs everything and lets go of the directory, so a process taking over opens it at once. A delivery
    /// still under way after that is repeated by the next owner (at least once). Later calls to `stop` do
    /// nothing.
    public func release(patienceMs: Int64 = OutboxFileStore.releasePatienceMs) {
        shared.withLock { $0.sealed = true }
        let deadline = nowMs() + patienceMs
        while shared.withLock({ $0.queue.claimedCount > 0 }) && nowMs() < deadline { usleep(10_000) }
        stop()
    }

    // MARK: - The process taking over (on the writer thread)

    /// Waits for the directory's lock, then replays the outbox and admits the held deferrals behind it. False
    /// when it gave up (the wait ran out, the outbox could not be read, or the gateway is stopping).
    func awaitOutbox(_ writer: WriterState, maxBytes: Int, patienceMs: Int64) -> Bool {
        let path = directory
        let started = nowMs()
        var warned = false
        writer.logger.notice("""
            the outbox is held by the process being replaced; it is opened when that process stops (calls that \
            would be deferred wait for it up to \(heldCallPatienceMs) ms each, then get 503)
            """, metadata: ["outbox_path": .string(path), "wait_at_most_ms": .stringConvertible(patienceMs)])
        while true {
            let now = nowMs()
            if shared.withLock({ $0.stopping }) {
                giveUp(writer, because: .unavailable("the gateway is stopping"))
                return false
            }
            refuseOverdue(nowMs: now)
            do throws(OutboxSegmentFiles.Failure) {
                if try writer.files.lock() {
                    var queue = OutboxQueue(maxBytes: maxBytes)
                    var placement = SegmentPlacement()
                    try OutboxFileStore.load(writer.files, into: &queue, placement: &placement, logger: writer.logger)
                    writer.placement = placement
                    putInForce(queue, writer: writer, waitedMs: now - started)
                    return true
                }
            } catch {
                writer.logger.error("the outbox could not be taken over; deferral is unavailable (503) until a restart",
                                    metadata: ["outbox_path": .string(path), "reason": .string(error.description)])
                giveUp(writer, because: OutboxFileStore.notTakenOver)
                return false
            }
            if now - started >= patienceMs {
                writer.logger.error("""
                    gave up waiting for the outbox another process holds; deferral is unavailable (503) until this \
                    gateway is restarted after that process has stopped
                    """, metadata: ["outbox_path": .string(path), "waited_ms": .stringConvertible(now - started)])
                giveUp(writer, because: OutboxFileStore.notTakenOver)
                return false
            }
            if !warned && now - started >= OutboxFileStore.takeOverWarningMs {
                warned = true
                writer.logger.warning("""
                    still waiting for the outbox another process holds; if no process is being replaced, stop this \
                    one and give it an outbox.path of its own
                    """, metadata: ["outbox_path": .string(path), "waited_ms": .stringConvertible(now - started)])
            }
            usleep(UInt32(OutboxFileStore.takeOverPollMs * 1000))
        }
    }

    /// Puts the replayed queue in force and admits the held deferrals behind it, in their order of arrival.
    private func putInForce(_ queue: OutboxQueue, writer: WriterState, waitedMs: Int64) {
        let (refused, held, pending) = shared.withLock { shared in
            shared.queue = queue
            shared.phase = .open
            var refused: [(HeldCall, OutboxRefusal)] = []
            for call in shared.held {
                if case .failure(let refusal) = admit(call.call, id: call.id, nowMs: call.keptAtMs,
                                                      completion: call.completion, in: &shared) {
                    refused.append((call, refusal))
                }
            }
            let held = shared.held.count
            shared.held = []
            return (refused, held, shared.queue.pendingCount)
        }
        for (call, refusal) in refused { call.completion(.failure(refusal)) }
        writer.logger.notice("outbox taken over from the replaced process", metadata: [
            "outbox_path": .string(directory), "waited_ms": .stringConvertible(waitedMs),
            "pending": .stringConvertible(pending), "deferrals_held_meanwhile": .stringConvertible(held),
        ])
    }

    /// Refuses the deferrals that waited longer than `heldCallPatienceMs`.
    private func refuseOverdue(nowMs now: Int64) {
        let overdue = shared.withLock { shared -> [HeldCall] in
            let overdue = shared.held.filter { now - $0.keptAtMs >= heldCallPatienceMs }
            guard !overdue.isEmpty else { return [] }
            shared.held.removeAll { now - $0.keptAtMs >= heldCallPatienceMs }
            return overdue
        }
        let refusal = OutboxRefusal.unavailable("""
            the outbox is still held by the process being replaced (serve --replace); retry in a few seconds
            """)
        for call in overdue { call.completion(.failure(refusal)) }
    }

    private func giveUp(_ writer: WriterState, because refusal: OutboxRefusal) {
        let held = shared.withLock { shared -> [HeldCall] in
            shared.phase = .gaveUp
            defer { shared.held = [] }
            return shared.held
        }
        writer.files.close()
        for call in held { call.completion(.failure(refusal)) }
    }

    /// After a take-over gave up: nothing to write; `stop` still waits for this thread to finish.
    func idleUntilStopped() {
        while !shared.withLock({ $0.stopping }) { _ = wake.wait(timeout: .now() + .seconds(1)) }
        finished.signal()
    }
}
