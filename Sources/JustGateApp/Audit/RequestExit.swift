import JustGateCore
import JustGateHTTP
import JustGateReactor
import JustGateServer
import Logging

/// The one exit of every request on one event loop: its request log line, its audit record and its metrics
/// are written here, from the one `RequestRecord`, so the three see the same traffic. `RequestDriver.finish`
/// calls it for every request the driver answers, and `RequestDriver.serverAnswered` for the server's own
/// answers (400/408/413/414/431, the 503 at `server.max_connections`). One instance per event loop (the
/// log line's buffer, the audit lane and the metric cache are the loop's); confined to it.
final class RequestExit {
    private let log: RequestLog
    private let audit: AuditTrail?
    /// This loop's lane to the audit writer.
    private let auditLane: AuditWriter.Lane?
    private let logPolicy: RequestLogPolicy
    private var sampler: SuccessSampler
    private let metrics: LoopMetrics

    /// - Parameters:
    ///   - sampleSuccess: the share of successful request lines kept (`log.sample_success`); the lines left out
    ///     are counted in metrics.
    init(log: RequestLog, audit: AuditTrail?, metrics: LoopMetrics, logPolicy: RequestLogPolicy = .all,
         sampleSuccess: Double = 1) {
        self.log = log
        self.audit = audit
        self.auditLane = audit?.makeLane()
        self.metrics = metrics
        self.logPolicy = logPolicy
        self.sampler = SuccessSampler(share: sampleSuccess)
    }

    /// False when the request must be refused because its audit record could not be kept
    /// (`Problem.auditUnavailable`).
    func admits() -> Bool {
        audit?.admits(lane: auditLane) ?? true
    }

    /// A request has ended: its log line (as `log.requests` and `log.sample_success` say), its audit record and
    /// its metrics. The one request without an audit record is the audit refusal (`auditUnavailable`): the
    /// writer that would take its record is the one that had no room for it, so it gets its log line and
    /// metrics only (`justgate_requests_total{outcome="audit_unavailable"}` counts what the audit log missed).
    ///
    /// `inout` though nothing here changes it: the record is lent straight from its `RequestContext` (a class)
    /// this way, where passing it by value would copy it, retaining each of its strings and arrays.
    ///
    /// `timed` is false for the server's own answers (`RequestDriver.serverAnswered`): they are counted, not
    /// put in the duration histogram (see `LoopMetrics.observe`).
    func ended(_ record: inout RequestRecord, timed: Bool = true) {
        // One clock read for all three: the log line, the audit record and the histogram give the same duration.
        let endedAtNanos = MonotonicInstant.now().nanoseconds
        if logPolicy.logs(status: record.status) {
            if record.status >= 400 || record.upstreamTokenRedacted || sampler.keep() {
                log.write(record, endedAtNanos: endedAtNanos)
            } else {
                metrics.logLineDropped()
            }
        }
        if record.outcome != .auditUnavailable {
            audit?.record(record, lane: auditLane, endedAtNanos: endedAtNanos)
        }
        metrics.observe(record, durationNanos: timed ? Int64(endedAtNanos &- record.receivedAtNanos) : nil)
    }
}

/// Keeps an exact share of successful request lines, evenly spread: each line adds the share to a
/// running total and is kept when the total passes a whole number. No randomness, so 0.01 keeps
/// exactly one line in a hundred.
struct SuccessSampler {
    /// The share in millionths: whole numbers, so ten lines at 0.1 add up to exactly one.
    private let sharePPM: Int
    private var total = 0

    init(share: Double) { sharePPM = Int((share * 1_000_000).rounded()) }

    mutating func keep() -> Bool {
        if sharePPM >= 1_000_000 { return true }
        total += sharePPM
        guard total >= 1_000_000 else { return false }
        total -= 1_000_000
        return true
    }
}

extension RequestLogPolicy {
    /// Whether a request answered with `status` gets a log line (`log.requests`).
    func logs(status: Int) -> Bool {
        switch self {
        case .all: true
        case .errors: status >= 400
        case .none: false
        }
    }
}
