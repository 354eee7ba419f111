#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateCore
import JustGateReactor
import Logging
import Synchronization

/// Appends audit records on a thread of its own, so an event loop never waits on the disk.
///
/// Each event loop packs the values of its records (`AuditBodyPacket`) into a `Lane` of its own as its requests
/// end; a request is admitted only when `hasRoom` (otherwise it is answered 503, not served unaudited). Once
/// per batch interval (`AuditFsyncPolicy.batchIntervalMs`: 10 ms with `fsync: always`, 100 ms otherwise) the
/// writer thread takes each lane's bytes, writes each record's JSON from its packet, seals the records onto the
/// hash chain, appends them, rotates, and forces them to disk as `audit.fsync` says. `stop` returns once every
/// committed record is written and synced.
///
/// Why lanes of bytes rather than one queue of `AuditRecord` values: a loop appends to its own lane, so loops
/// never wait on each other, and a record crosses threads as a few hundred bytes in a buffer that is reused,
/// not as a value of twenty strings to retain, copy and release. With the chain sealed from those bytes, the
/// writer thread's CPU per record went from 4.2 µs to about 1.3 µs (`make bench`, subscribe.sms); with 100 ms batches
/// and libcrypto's SHA-256, 1.0–1.2 µs. Why packets rather than JSON in the lanes: see `AuditBodyPacket`
/// (the loops' share fell by about 0.6 µs per request; the writer's, now writing the JSON too, is 1.4–1.6 µs).
public final class AuditWriter: Sendable {
    /// Records a lane holds when admission on its loop stops; beyond it requests get 503 rather than
    /// unbounded memory.
    public static let queueCapacity = 16_384
    /// Records in one lane at which the writer is woken before its batch interval is up.
    static let earlyBatchCount = queueCapacity / 4
    static let checkIntervalMs: Int64 = 100
    /// Sealed bytes the writer holds while the file cannot be written; beyond it records wait in the lanes.
    static let maxPendingBytes = 1 << 20
    /// Capacity the writer keeps in its write buffer between batches; a buffer grown beyond it (a long outage,
    /// a huge burst) is given back once written.
    static let retainedPendingBytes = 8 << 20
    /// How long `stop` keeps trying to write what is queued (an unwritable disk, a log still held by the
    /// process being replaced) before it gives up rather than hang the exit.
    static let stopPatienceMs: Int64 = 5_000
    /// How long a take-over (`serve --replace`) waits for the log before it logs that it is still waiting.
    static let longTakeOverMs: Int64 = 10_000
    /// How long a take-over that got the lock but could not use the file waits before trying again.
    static let failedTakeOverPauseMs: Int64 = 5_000
    /// Bytes in front of each record's packet in a lane (see `Lane.Records`).
    static let recordHeaderLength = 20

    /// Where one event loop leaves the records of its finished requests for the writer thread.
    ///
    /// Everything a loop touches per request is its own lane's: no counter or lock shared between loops, whose
    /// cache line would bounce between cores on every request.
    public final class Lane: Sendable {
        fileprivate struct Records {
            /// Each record as `[order: 8 bytes][unix millis: 8 bytes][packet length: 4 bytes][packet]` (native byte
            /// order), the packet as `AuditBodyPacket` lays it out; `order` is the monotonic clock when it was queued,
            /// so the writer can merge lanes in that order.
            var bytes = AuditLaneBuffer()
        }
        fileprivate let records = Mutex(Records())
        /// Records in `records.bytes`, changed only under its lock but read without it: admission looks at it
        /// for every request, and a stale count only moves the moment admission stops by a record or two.
        fileprivate let count = Atomic<Int>(0)
        fileprivate init() {}
        deinit { records.withLock { $0.bytes.deallocate() } }
    }

    private let lanes = Mutex<[Lane]>([])
    /// The lane of callers that are not one loop's (requests the server answers by itself, on any loop).
    private let sharedLane: Lane
    /// Records that are not a request's (`reload`), from any thread; sealed whole by the writer thread
    /// (`AuditChain.seal`), ahead of the lanes' records of the same batch. A queue of its own rather than a lane:
    /// a lane holds packets of request bodies, whose `event` is always `request`, and these are a few a day.
    private let events = Mutex<[AuditRecord]>([])
    /// Event records `submitEvent` holds at most while the log cannot be written.
    static let maxQueuedEvents = 256
    private let stopping = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let available = Atomic<Bool>(true)
    private let failedWrites = Atomic<Int>(0)
    /// Set by the writer before a long sleep with nothing queued; a producer that sees it wakes the
    /// writer. Under load the writer never goes idle, so producers never signal: waking a thread per
    /// record (a futex wake and two context switches) cost more than the rest of the audit stage.
    private let writerIdle = Atomic<Bool>(false)
    /// What the writer found at start-up (a torn last line, a new log), for the start-up log.
    public let startupNotices: [String]
    /// Where the live file is.
    public let path: String
    /// Room kept in a lane beyond `queueCapacity` for requests admitted before it filled (one per connection).
    private let inFlightAllowance: Int

    /// Takes the log's lock, opens the log, resumes the chain from the last record on disk, and starts the
    /// writer thread. Throws (with what to fix) when the log cannot be opened, its last line is not an audit
    /// record, or another writer holds it and `takeOver` is false.
    /// - Parameters:
    ///   - inFlightAllowance: the most requests in flight at once (`server.max_connections`).
    ///   - takeOver: `serve --replace`: when another process holds the log, start anyway and take the log over
    ///     once it lets go (it does as it stops); records queue in the lanes meanwhile.
    public init(config: AuditConfig, key: [UInt8]?, logger: Logger, inFlightAllowance: Int, takeOver: Bool = false) throws {
        self.inFlightAllowance = inFlightAllowance
        let file = AuditFile(config: config)
        let hasher = AuditHasher(key: key)
        let state: WriterState
        if let resumed = try AuditWriter.take(file, hasher: hasher) {
            startupNotices = resumed.notices
            state = WriterState(file: file, chain: resumed.chain, firstRecords: resumed.firstRecords,
                                fsync: config.fsync, logger: logger)
        } else if takeOver {
            startupNotices = [
                "the audit log at \(config.path) is held by the process being replaced; records wait for it (up to " +
                "\(AuditWriter.queueCapacity) per event loop, then 503) until that process stops and lets go",
            ]
            state = WriterState(file: file, chain: AuditChain(hasher: hasher), firstRecords: [], fsync: config.fsync,
                                logger: logger)
            state.awaitingLog = hasher
        } else {
            file.close()
            throw LogInUse(description: """
                \(config.path) is being written by another running justgate (it holds \(file.lockPath)); give each \
                gateway an audit.path of its own, or start this one with --replace to take over when that one stops
                """)
        }
        path = config.path
        let shared = Lane()
        sharedLane = shared
        lanes.withLock { $0.append(shared) }
        let thread = Thread { [self] in
            ThreadName.setCurrent("jg-audit")
            run(state)
        }
        thread.start()
    }

    /// Another writer holds the log (and this one was not asked to take it over).
    public struct LogInUse: Error, CustomStringConvertible {
        public var description: String
    }

    /// A lane for one event loop's records; a loop keeps its lane for as long as it runs.
    public func makeLane() -> Lane {
        let lane = Lane()
        lanes.withLock { $0.append(lane) }
        return lane
    }

    /// Whether records can be written right now; false while the file cannot be written.
    public var isAvailable: Bool { available.load(ordering: .relaxed) }

    /// Write, reopen and rotation attempts that failed since start (for metrics).
    public var writeErrors: Int { failedWrites.load(ordering: .relaxed) }

    /// Whether a new request may be served: the log is writable and the loop's lane has room for its record.
    ///
    /// Admission stops at `queueCapacity`, but `submit` accepts up to `queueCapacity + inFlightAllowance`:
    /// every admitted request still in flight (at most one per connection) finds room for its record, so a
    /// request admitted is never a record lost, and no per-request reservation needs tracking.
    public func hasRoom(in lane: Lane? = nil) -> Bool {
        isAvailable && !stopping.load(ordering: .relaxed)
            && (lane ?? sharedLane).count.load(ordering: .relaxed) < AuditWriter.queueCapacity
    }

    /// Records queued in every lane and not yet sealed.
    private var queued: Int {
        // Read under each lane's lock, not from the bare count: the writer's decision to sleep relies on this
        // read being ordered after its `writerIdle` store and before a producer's next `writerIdle` load.
        lanes.withLock { lanes in
            lanes.reduce(0) { total, lane in total + lane.records.withLock { _ in lane.count.load(ordering: .relaxed) } }
        }
    }

    /// Queues a finished request's record, packed here on the caller's thread; false (the record is
    /// dropped) only when far more requests ended at once than were admitted, or after `stop`.
    ///
    /// - Parameters:
    ///   - fields: what the record says (its `time`, `seq`, `prev` and `hash` are the writer's to fill in).
    ///   - durationMicros: how long the request took.
    ///   - receivedAtMillis: Unix milliseconds the request arrived at, its `time`.
    ///   - lane: the calling loop's lane; `nil` for callers on any thread (a shared, locked lane).
    ///   - endedAtNanos: the monotonic clock when the request ended, if the caller has just read it (the
    ///     order records are written in); read here otherwise.
    @discardableResult
    public func submit(_ fields: some AuditBodyFields, durationMicros: Int?, receivedAtMillis: Int64,
                       lane: Lane? = nil, endedAtNanos: UInt64? = nil) -> Bool {
        guard !stopping.load(ordering: .relaxed) else { return false }
        let target = lane ?? sharedLane
        let accepted = target.records.withLock { records -> Queueing in
            let count = target.count.load(ordering: .relaxed)
            guard count < AuditWriter.queueCapacity + inFlightAllowance else { return .refused }
            // A loop's lane has one writer, so its records are in clock order; the shared lane reads the clock
            // under its lock for the same reason.
            let order = lane == nil ? MonotonicInstant.now().nanoseconds : (endedAtNanos ?? MonotonicInstant.now().nanoseconds)
            let length = AuditBodyPacket.pack(fields, durationMicros: durationMicros) { atLeast in
                UnsafeMutableRawBufferPointer(start: records.bytes.reserve(AuditWriter.recordHeaderLength + atLeast)
                                                  + AuditWriter.recordHeaderLength, count: atLeast)
            }
            let header = records.bytes.reserve(AuditWriter.recordHeaderLength + length)
            header.storeBytes(of: order, as: UInt64.self)
            header.storeBytes(of: receivedAtMillis, toByteOffset: 8, as: Int64.self)
            header.storeBytes(of: UInt32(truncatingIfNeeded: length), toByteOffset: 16, as: UInt32.self)
            records.bytes.commit(AuditWriter.recordHeaderLength + length)
            target.count.store(count + 1, ordering: .relaxed)
            return count + 1 == AuditWriter.earlyBatchCount ? .queuedAndFilling : .queued
        }
        guard accepted != .refused else { return false }
        // Enqueue, then look: the writer sets the flag, then looks at the queue, so one of the two sees
        // the other and no record waits out the writer's long sleep.
        if writerIdle.load(ordering: .sequentiallyConsistent) && writerIdle.exchange(false, ordering: .sequentiallyConsistent) {
            wake.signal()
        } else if accepted == .queuedAndFilling {
            // A burst: take the lane now rather than at the end of the batch interval, before admission stops.
            wake.signal()
        }
        return true
    }

    private enum Queueing { case queued, queuedAndFilling, refused }

    /// Queues `record` as written (its `path` already redacted), for callers that hold an `AuditRecord`.
    @discardableResult
    public func submit(_ record: AuditRecord, receivedAtMillis: Int64, lane: Lane? = nil) -> Bool {
        submit(record, durationMicros: record.durationMicros, receivedAtMillis: receivedAtMillis, lane: lane)
    }

    /// Queues a record that is not a request's (a reload), from any thread, without waiting on the disk or on
    /// the loops' lanes: it takes one lock the loops never touch and wakes the writer. `time` is the caller's;
    /// `seq`, `prev` and `hash` are the writer's. False (not queued) after `stop`, or when `maxQueuedEvents`
    /// wait for a log that cannot be written.
    @discardableResult
    public func submitEvent(_ record: AuditRecord) -> Bool {
        guard !stopping.load(ordering: .relaxed) else { return false }
        let queued = events.withLock { events -> Bool in
            guard events.count < AuditWriter.maxQueuedEvents else { return false }
            events.append(record)
            return true
        }
        // Always woken: these are rare, and an idle writer would otherwise hold the record for its long sleep.
        if queued { wake.signal() }
        return queued
    }

    /// Writes and syncs every queued record, then ends the writer thread. Call after the server has stopped.
    public func stop() {
        guard !stopping.exchange(true, ordering: .sequentiallyConsistent) else { return }
        wake.signal()
        finished.wait()
    }

    // MARK: - Writer thread

    /// What only the writer thread touches.
    ///
    /// `@unchecked Sendable`: it is created in `init` and from then on used by the writer thread alone (it is
    /// handed to the thread's closure once and not kept anywhere else), so no two threads ever access it.
    private final class WriterState: @unchecked Sendable {
        /// The log; another file only when a take-over gives up at stop (`divert`).
        var file: AuditFile
        var chain: AuditChain
        /// Records sealed before any request's (`chain_start`, `chain_restart`).
        var firstRecords: [AuditRecord]
        let fsync: AuditFsyncPolicy
        let logger: Logger
        /// Sealed lines not yet written (kept across a failed write, so no record is lost or re-sealed).
        var pending: [UInt8] = []
        /// One buffer per lane, swapped with the lane's so the lanes' capacity is reused, not reallocated.
        var spares: [AuditLaneBuffer] = []
        var unsynced = false
        var lastSyncMs: Int64 = 0
        var lastCheckMs: Int64 = 0
        var stopDeadlineMs: Int64?
        /// Set while another process holds the log (`takeOver`): the hasher to resume its chain with once it lets go.
        var awaitingLog: AuditHasher?
        /// While taking over: since when (monotonic ms), and whether the long wait was logged.
        var awaitingSinceMs: Int64 = 0
        var warnedOfWait = false
        /// Where a record's body is written from its packet before it is sealed: reused for every record,
        /// grown when a record could need more, never zeroed.
        private(set) var bodyScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)

        init(file: AuditFile, chain: AuditChain, firstRecords: [AuditRecord], fsync: AuditFsyncPolicy, logger: Logger) {
            self.file = file
            self.chain = chain
            self.firstRecords = firstRecords
            self.fsync = fsync
            self.logger = logger
        }

        deinit {
            bodyScratch.deallocate()
            for index in spares.indices { spares[index].deallocate() }
        }

        /// `bodyScratch`, with room for at least `atLeast` bytes.
        func scratch(_ atLeast: Int) -> UnsafeMutableRawBufferPointer {
            if atLeast > bodyScratch.count {
                bodyScratch.deallocate()
                bodyScratch = .allocate(byteCount: atLeast, alignment: 8)
            }
            return bodyScratch
        }
    }

    private func run(_ state: WriterState) {
        var lastBatchWasEmpty = false
        while true {
            if lastBatchWasEmpty {
                writerIdle.store(true, ordering: .sequentiallyConsistent)
                let waiting = queued > 0 || stopping.load(ordering: .sequentiallyConsistent)
                if !waiting { _ = wake.wait(timeout: .now() + .milliseconds(Int(AuditWriter.checkIntervalMs))) }
                writerIdle.store(false, ordering: .sequentiallyConsistent)
            } else {
                _ = wake.wait(timeout: .now() + .milliseconds(state.fsync.batchIntervalMs))
            }
            let stopping = self.stopping.load(ordering: .sequentiallyConsistent)
            let now = MonotonicInstant.now().milliseconds
            if now - state.lastCheckMs >= AuditWriter.checkIntervalMs {
                state.lastCheckMs = now
                if let hasher = state.awaitingLog {
                    takeOver(state, hasher: hasher, now: now)
                } else if state.file.fd < 0 || !state.file.isStillInPlace {
                    reopen(state)
                }
            }
            for var record in state.firstRecords {
                state.chain.seal(&record, into: &state.pending)
            }
            state.firstRecords = []
            if state.awaitingLog == nil {
                for var record in events.withLock({ events in defer { events = [] }; return events }) {
                    state.chain.seal(&record, into: &state.pending)
                }
            }
            // While the file cannot be written, records stay in the lanes (bounded) instead of piling up sealed.
            let sealed = state.awaitingLog == nil && state.pending.count < AuditWriter.maxPendingBytes ? sealLanes(state) : 0
            // While waiting for the log, keep waking to look for it (`takeOver`), records queued or not.
            lastBatchWasEmpty = sealed == 0 && state.awaitingLog == nil
            if !state.pending.isEmpty && state.file.fd >= 0 { writePending(state) }
            if state.unsynced && (state.fsync == .always || stopping
                                  || (state.fsync == .interval && now - state.lastSyncMs >= AuditWriter.checkIntervalMs)) {
                state.file.sync()
                state.unsynced = false
                state.lastSyncMs = now
            }
            if stopping {
                let drained = queued == 0 && state.pending.isEmpty && events.withLock { $0.isEmpty }
                // An unwritable disk at stop: keep trying for a while, then give up rather than hang the exit.
                let deadline = state.stopDeadlineMs ?? (now + AuditWriter.stopPatienceMs)
                state.stopDeadlineMs = deadline
                if !drained && now >= deadline, let hasher = state.awaitingLog {
                    // Stopped before the replaced process let go: write the records elsewhere rather than drop them.
                    divert(state, hasher: hasher)
                    state.stopDeadlineMs = now + AuditWriter.stopPatienceMs
                    continue
                }
                if drained || now >= deadline {
                    if !drained {
                        state.logger.error("audit records could not be written before exit", metadata: [
                            "audit_path": .string(path), "bytes": .stringConvertible(state.pending.count),
                            "records_queued": .stringConvertible(queued),
                            "reason": .string("the log cannot be written"),
                        ])
                    }
                    state.file.sync()
                    // Let go of the log before `stop` returns: a process taking over may be waiting for it.
                    state.file.close()
                    finished.signal()
                    return
                }
            }
        }
    }

    /// Takes every lane's records and seals them onto the chain into `pending`, in the order they were queued;
    /// returns how many.
    private func sealLanes(_ state: WriterState) -> Int {
        let lanes = self.lanes.withLock { $0 }
        // Taken out of `state` for the batch: a class's stored array read per record costs a retain and an
        // exclusivity check each time.
        var spares = state.spares
        state.spares = []
        while spares.count < lanes.count { spares.append(AuditLaneBuffer()) }
        for (index, lane) in lanes.enumerated() {
            lane.records.withLock { records in
                swap(&records.bytes, &spares[index])
                lane.count.store(0, ordering: .relaxed)
            }
        }
        var sealed = 0
        var cursors = [Int](repeating: 0, count: lanes.count)
        while true {
            // The lane whose next record was queued first (a handful of lanes: a scan beats a heap).
            var next = -1
            var lowest = UInt64.max
            for index in cursors.indices where cursors[index] < spares[index].count {
                let order = spares[index].bytes.loadUnaligned(fromByteOffset: cursors[index], as: UInt64.self)
                if order < lowest { lowest = order; next = index }
            }
            guard next >= 0 else { break }
            cursors[next] = sealRecord(at: cursors[next], in: spares[next].bytes, state)
            sealed += 1
        }
        for index in spares.indices { spares[index].removeAll() }
        state.spares = spares
        return sealed
    }

    /// Seals the record at `offset` of a lane's bytes (see `Lane.Records` for the layout); returns the next offset.
    private func sealRecord(at offset: Int, in raw: UnsafeRawBufferPointer, _ state: WriterState) -> Int {
        let millis = raw.loadUnaligned(fromByteOffset: offset + 8, as: Int64.self)
        let length = Int(raw.loadUnaligned(fromByteOffset: offset + 16, as: UInt32.self))
        let start = offset + AuditWriter.recordHeaderLength
        let packet = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
        let bodyLength = AuditRecordEncoding.body(packet: packet) { atLeast in state.scratch(atLeast) }
        let body = UnsafeRawBufferPointer(rebasing: state.bodyScratch[0..<bodyLength])
        state.chain.sealRequest(unixMillis: millis, body: body, into: &state.pending)
        let next = start + length
        // Rotate on a record boundary once the file would pass rotate_bytes, not only per batch.
        if state.file.fd >= 0 && state.file.size + state.pending.count >= state.file.rotateBytes {
            writePending(state)
        }
        return next
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
        // Kept for the next batch: a batch is 100 ms of records (1.6 MB at 24,000 req/s), and freeing and
        // regrowing that every batch left the heap fragmented (peak RSS +10 to +24 MiB in `make bench`).
        state.pending.removeAll(keepingCapacity: state.pending.capacity <= AuditWriter.retainedPendingBytes)
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

    /// Takes `file`'s lock, opens it and resumes its chain; `nil` when another writer holds the lock.
    /// The file's hygiene is checked on the way (`AuditFile+Hygiene`); what was mended leads the notices.
    private static func take(_ file: AuditFile, hasher: AuditHasher) throws(AuditFile.Failure) -> Resumed? {
        guard try file.lock() else { return nil }
        try file.open()
        try file.secureRotatedFiles()
        var resumed = try resume(file, hasher: hasher)
        resumed.notices = file.notices + resumed.notices
        file.notices = []
        return resumed
    }

    /// `serve --replace`: takes the log once the process being replaced lets go of it, and continues its chain
    /// from the last record that process wrote. Tried every `checkIntervalMs`; never blocks the thread, so
    /// `stop` still ends it.
    private func takeOver(_ state: WriterState, hasher: AuditHasher, now: Int64) {
        do {
            if state.awaitingSinceMs == 0 { state.awaitingSinceMs = now }
            guard let resumed = try AuditWriter.take(state.file, hasher: hasher) else {
                if !state.warnedOfWait && now - state.awaitingSinceMs >= AuditWriter.longTakeOverMs {
                    state.warnedOfWait = true
                    state.logger.warning("""
                        still waiting for the audit log another process holds; if no process is being replaced, \
                        stop this one and give it an audit.path of its own
                        """, metadata: ["audit_path": .string(path), "records_queued": .stringConvertible(queued)])
                }
                return
            }
            state.chain = resumed.chain
            state.firstRecords = resumed.firstRecords
            state.awaitingLog = nil
            setAvailable(true, state: state, reason: nil)
            state.logger.notice("audit log taken over from the replaced process", metadata: [
                "audit_path": .string(path), "notices": .string(resumed.notices.joined(separator: "; ")),
            ])
        } catch {
            // The lock is ours but the file is not usable: say so (once), answer 503, try again in a while
            // (reading the file's end each time is not free).
            setAvailable(false, state: state, reason: error.description)
            state.lastCheckMs = now + AuditWriter.failedTakeOverPauseMs
        }
    }

    /// A take-over stopped before the replaced process let go of the log (a hand-over called off, or an old
    /// process draining past the stop's patience): the records of the requests this process answered go to a
    /// file of their own beside the log, `<audit.path>.handover-<pid>`, a chain of its own that
    /// `audit verify --file` checks, rather than being lost. The review commands' `--dir` leave it out.
    private func divert(_ state: WriterState, hasher: AuditHasher) {
        let sidePath = "\(path).handover-\(getpid())"
        let side = AuditFile(config: AuditConfig(path: sidePath, fsync: state.fsync))
        state.awaitingLog = nil
        do throws(AuditFile.Failure) {
            guard let resumed = try AuditWriter.take(side, hasher: hasher) else {
                throw AuditFile.Failure(description: "\(sidePath) is locked by another writer")
            }
            state.file.close()
            state.file = side
            state.chain = resumed.chain
            state.firstRecords = resumed.firstRecords.map { record in
                var record = record
                record.note = "records of a hand-over (serve --replace) stopped before the replaced process let go " +
                    "of \(path); \(record.note ?? "")"
                return record
            }
            state.logger.warning("stopped before the replaced process let go of the audit log; this process's records are in a file of their own", metadata: [
                "audit_path": .string(path), "written_to": .string(sidePath), "records_queued": .stringConvertible(queued),
            ])
        } catch {
            // Never back to the log itself, which the other process still writes: what follows can only fail
            // to write the side file, and the stop then says so.
            state.file.close()
            state.file = side
            state.logger.error("stopped before the replaced process let go of the audit log, and the records could not be written beside it",
                               metadata: ["audit_path": .string(path), "reason": .string(error.description)])
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

}
