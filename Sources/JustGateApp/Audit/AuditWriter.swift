#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateCore
import Logging
import Synchronization

/// Appends audit records on a thread of its own, so an event loop never waits on the disk.
///
/// Loops hand records over through a bounded queue. A request is admitted only when `hasRoom` (otherwise it is
/// answered 503, not served unaudited) and `submit`s its record when it ends. The writer thread seals records onto the hash chain,
/// appends them, rotates, and forces them to disk as `audit.fsync` says. `stop` returns once every committed
/// record is written and synced.
public final class AuditWriter: Sendable {
    /// Records queued when admission stops; beyond it requests get 503 rather than unbounded memory.
    public static let queueCapacity = 16_384
    static let checkIntervalMs: Int64 = 100
    /// Sealed bytes the writer holds while the file cannot be written; beyond it records wait in the queue.
    static let maxPendingBytes = 1 << 20

    private struct Queue {
        /// Records with, for request records, the Unix milliseconds their `time` is formatted from.
        var records: [(record: AuditRecord, receivedAtMillis: Int64?)] = []
        var stopping = false
    }

    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let available = Atomic<Bool>(true)
    private let failedWrites = Atomic<Int>(0)
    /// Set by the writer before a long sleep with nothing queued; a producer that sees it wakes the
    /// writer. Under load the writer never goes idle, so producers never signal: waking a thread per
    /// record (a futex wake and two context switches) cost more than the rest of the audit stage.
    private let writerIdle = Atomic<Bool>(false)
    /// How long a busy writer waits between batches: records reach the file at most this much later.
    static let batchIntervalMs = 2
    /// What the writer found at start-up (a torn last line, a new log), for the start-up log.
    public let startupNotices: [String]
    /// Where the live file is.
    public let path: String
    /// Room kept beyond `queueCapacity` for requests admitted before the queue filled (one per connection).
    private let inFlightAllowance: Int

    /// Opens the log, resumes the chain from the last record on disk, and starts the writer thread.
    /// Throws (with what to fix) when the log cannot be opened or its last line is not an audit record.
    /// - Parameter inFlightAllowance: the most requests in flight at once (`server.max_connections`).
    public init(config: AuditConfig, key: [UInt8]?, logger: Logger, inFlightAllowance: Int) throws {
        self.inFlightAllowance = inFlightAllowance
        let file = AuditFile(config: config)
        try file.open()
        let resumed = try AuditWriter.resume(file, hasher: AuditHasher(key: key))
        startupNotices = resumed.notices
        path = config.path
        let state = WriterState(file: file, chain: resumed.chain, fsync: config.fsync, logger: logger)
        for record in resumed.firstRecords { queue.withLock { $0.records.append((record, nil)) } }
        let thread = Thread { [self] in run(state) }
        thread.name = "justgate-audit"
        thread.start()
    }

    /// Whether records can be written right now; false while the file cannot be written.
    public var isAvailable: Bool { available.load(ordering: .relaxed) }

    /// Write, reopen and rotation attempts that failed since start (for metrics).
    public var writeErrors: Int { failedWrites.load(ordering: .relaxed) }

    /// Whether a new request may be served: the log is writable and the queue has room for its record.
    ///
    /// Admission stops at `queueCapacity`, but `submit` accepts up to `queueCapacity + inFlightAllowance`:
    /// every admitted request still in flight (at most one per connection) finds room for its record, so a
    /// request admitted is never a record lost, and no per-request reservation needs tracking.
    public func hasRoom() -> Bool {
        guard isAvailable else { return false }
        return queue.withLock { !$0.stopping && $0.records.count < AuditWriter.queueCapacity }
    }

    /// Queues a finished request's record; false (the record is dropped) only when far more requests ended at
    /// once than were admitted, or after `stop`.
    ///
    /// With `receivedAtMillis`, the writer thread formats `time` and redacts `path` (`AuditRecord.finish`),
    /// so that string work stays off the event loops.
    @discardableResult
    public func submit(_ record: AuditRecord, receivedAtMillis: Int64? = nil) -> Bool {
        let accepted = queue.withLock { queue -> Bool in
            guard queue.records.count < AuditWriter.queueCapacity + inFlightAllowance else { return false }
            queue.records.append((record, receivedAtMillis))
            return true
        }
        // Enqueue, then look: the writer sets the flag, then looks at the queue, so one of the two sees
        // the other and no record waits out the writer's long sleep.
        if accepted && writerIdle.load(ordering: .sequentiallyConsistent)
            && writerIdle.exchange(false, ordering: .sequentiallyConsistent) {
            wake.signal()
        }
        return accepted
    }

    /// Writes and syncs every queued record, then ends the writer thread. Call after the server has stopped.
    public func stop() {
        let alreadyStopping = queue.withLock { queue in
            defer { queue.stopping = true }
            return queue.stopping
        }
        guard !alreadyStopping else { return }
        wake.signal()
        finished.wait()
    }

    // MARK: - Writer thread

    /// What only the writer thread touches.
    ///
    /// `@unchecked Sendable`: it is created in `init` and from then on used by the writer thread alone (it is
    /// handed to the thread's closure once and not kept anywhere else), so no two threads ever access it.
    private final class WriterState: @unchecked Sendable {
        let file: AuditFile
        var chain: AuditChain
        let fsync: AuditFsyncPolicy
        let logger: Logger
        /// Sealed lines not yet written (kept across a failed write, so no record is lost or re-sealed).
        var pending: [UInt8] = []
        var unsynced = false
        var lastSyncMs: Int64 = 0
        var lastCheckMs: Int64 = 0
        var stopDeadlineMs: Int64?

        init(file: AuditFile, chain: AuditChain, fsync: AuditFsyncPolicy, logger: Logger) {
            self.file = file
            self.chain = chain
            self.fsync = fsync
            self.logger = logger
        }
    }

    private func run(_ state: WriterState) {
        var lastBatchWasEmpty = false
        while true {
            if lastBatchWasEmpty {
                writerIdle.store(true, ordering: .sequentiallyConsistent)
                let queued = queue.withLock { !$0.records.isEmpty || $0.stopping }
                if !queued { _ = wake.wait(timeout: .now() + .milliseconds(Int(AuditWriter.checkIntervalMs))) }
                writerIdle.store(false, ordering: .sequentiallyConsistent)
            } else {
                _ = wake.wait(timeout: .now() + .milliseconds(AuditWriter.batchIntervalMs))
            }
            // While the file cannot be written, records stay queued (bounded) instead of piling up sealed.
            let canSeal = state.pending.count < AuditWriter.maxPendingBytes
            let (batch, stopping) = queue.withLock { queue -> ([(record: AuditRecord, receivedAtMillis: Int64?)], Bool) in
                guard canSeal else { return ([], queue.stopping) }
                defer { queue.records.removeAll(keepingCapacity: true) }
                return (queue.records, queue.stopping)
            }
            lastBatchWasEmpty = batch.isEmpty
            let now = AuditWriter.monotonicMs()
            if now - state.lastCheckMs >= AuditWriter.checkIntervalMs {
                state.lastCheckMs = now
                if state.file.fd < 0 || !state.file.isStillInPlace { reopen(state) }
            }
            for (queued, receivedAtMillis) in batch {
                var record = queued
                if let receivedAtMillis { record.finish(receivedAtMillis: receivedAtMillis) }
                state.chain.seal(&record, into: &state.pending)
                // Rotate on a record boundary once the file would pass rotate_bytes, not only per batch.
                if state.file.fd >= 0 && state.file.size + state.pending.count >= state.file.rotateBytes {
                    writePending(state)
                }
            }
            if !state.pending.isEmpty && state.file.fd >= 0 { writePending(state) }
            if state.unsynced && (state.fsync == .always || stopping
                                  || (state.fsync == .interval && now - state.lastSyncMs >= AuditWriter.checkIntervalMs)) {
                state.file.sync()
                state.unsynced = false
                state.lastSyncMs = now
            }
            if stopping {
                let drained = queue.withLock { $0.records.isEmpty } && state.pending.isEmpty
                // An unwritable disk at stop: keep trying for a while, then give up rather than hang the exit.
                let deadline = state.stopDeadlineMs ?? (now + 5000)
                state.stopDeadlineMs = deadline
                if drained || now >= deadline {
                    if !drained {
                        state.logger.error("audit records could not be written before exit",
                                           metadata: ["audit_path": .string(path), "bytes": .stringConvertible(state.pending.count)])
                    }
                    state.file.sync()
                    finished.signal()
                    return
                }
            }
        }
    }

    private func writePending(_ state: WriterState) {
        var written = 0
        do {
            try state.file.append(state.pending[...], written: &written)
        } catch {
            state.pending.removeFirst(written)
            setAvailable(false, state: state, reason: error.description)
            return
        }
        state.pending.removeAll(keepingCapacity: state.pending.count < AuditWriter.maxPendingBytes)
        state.unsynced = true
        setAvailable(true, state: state, reason: nil)
        guard state.file.needsRotation else { return }
        do {
            try state.file.rotate()
        } catch {
            // The records are written; the live file just grows past rotate_bytes until a rotation works.
            setAvailable(state.file.fd >= 0, state: state, reason: error.description)
        }
    }

    private func reopen(_ state: WriterState) {
        do {
            try state.file.open()
            if state.pending.isEmpty { setAvailable(true, state: state, reason: nil) }
        } catch {
            setAvailable(false, state: state, reason: error.description)
        }
    }

    /// Switches the state loops read, logging once per switch; every failure is counted.
    private func setAvailable(_ value: Bool, state: WriterState, reason: String?) {
        if reason != nil { failedWrites.wrappingAdd(1, ordering: .relaxed) }
        guard available.exchange(value, ordering: .relaxed) != value else { return }
        if value {
            state.logger.notice("audit log writable again; requests are served", metadata: ["audit_path": .string(path)])
        } else {
            state.logger.error("audit log cannot be written; requests are answered 503 until it can (audit.required)",
                               metadata: ["audit_path": .string(path), "reason": .string(reason ?? "unknown")])
        }
    }

    static func monotonicMs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
