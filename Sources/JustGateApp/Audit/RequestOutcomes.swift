import JustGateCore
import JustGateHTTP
import JustGateServer
import JustGateReactor
import Logging

/// Where a request the gateway's handler answered ends: the request log line and the audit record are both
/// written here, from the one `RequestRecord`, so they see the same traffic. One instance per event loop
/// (the log line's buffer is the loop's); requests the server answers by itself come through
/// `ServerAnswerRecorder`, which feeds the same two observers. The one exception is `refusal`, the 503 for a
/// request that cannot be audited: it is logged only.
final class RequestOutcomes {
    private let log: RequestLog
    private let audit: AuditTrail?
    /// This loop's lane to the audit writer.
    private let auditLane: AuditWriter.Lane?
    private let logPolicy: RequestLogPolicy
    private var requestIDs = RequestIDGenerator()
    private var sampler: SuccessSampler
    private let dropped: (() -> Void)?

    /// - Parameters:
    ///   - sampleSuccess: the share of successful request lines kept (`log.sample_success`).
    ///   - dropped: called for each line sampling left out (counted in metrics).
    init(log: RequestLog, audit: AuditTrail?, logPolicy: RequestLogPolicy = .all, sampleSuccess: Double = 1,
         dropped: (() -> Void)? = nil) {
        self.log = log
        self.audit = audit
        self.auditLane = audit?.makeLane()
        self.logPolicy = logPolicy
        self.sampler = SuccessSampler(share: sampleSuccess)
        self.dropped = dropped
    }

    /// False when the request must be refused because its audit record could not be kept (`refusal`).
    func admits() -> Bool {
        audit?.admits(lane: auditLane) ?? true
    }

    /// The 503 for a request that cannot be audited; logged (its audit record is what cannot be written).
    func refusal(for request: ServerRequest) -> HTTPResponse {
        let requestID = requestIDs.next()
        var record = RequestRecord(requestID: requestID, method: request.head.method, path: String(request.head.path),
                                   clientAddress: request.remoteAddress, receivedAtNanos: request.receivedAtNanos)
        let response = ProblemResponses.make(
            .unavailable, detail: "The audit log cannot be written and this gateway serves no request it cannot audit; retry shortly.",
            requestID: requestID)
        record.status = response.status
        record.outcome = .auditUnavailable
        if logPolicy.logs(status: record.status) { log.write(record) }
        return response
    }

    /// A request answered by the pipeline or the upstream. The audit record is always written; the
    /// log line as `log.requests` and `log.sample_success` say.
    func finished(_ record: RequestRecord) {
        // One clock read for both: the log line and the audit record give the same duration.
        let endedAtNanos = MonotonicInstant.now().nanoseconds
        if logPolicy.logs(status: record.status) {
            if record.status >= 400 || record.upstreamTokenRedacted || sampler.keep() {
                log.write(record, endedAtNanos: endedAtNanos)
            } else {
                dropped?()
            }
        }
        audit?.record(record, lane: auditLane, endedAtNanos: endedAtNanos)
    }
}

/// The outcome hook for requests the server answers by itself (malformed HTTP, timeouts, limits, the
/// connection cap): the same log line and audit record as any other request. Called on any loop's thread,
/// so it encodes into a buffer of its own rather than a loop's.
struct ServerAnswerRecorder: Sendable {
    let sink: LogSink
    let label: String
    let threshold: Logger.Level
    let audit: AuditTrail?
    let logPolicy: RequestLogPolicy
    let metrics: GatewayMetrics

    func record(_ answer: ServerAnswer) {
        let requestID = answer.response.headers.first { $0.name == "X-Request-Id" }?.value ?? ""
        var record = RequestRecord(requestID: requestID, method: answer.method ?? "", path: answer.path ?? "",
                                   clientAddress: answer.remoteAddress, receivedAtNanos: answer.receivedAtNanos)
        record.status = answer.response.status
        let outcome: RequestOutcome = answer.response.status == 503 ? .rejectedOverload : .rejectedInvalid
        record.outcome = outcome
        let level = RequestLog.level(forStatus: record.status)
        let endedAtNanos = MonotonicInstant.now().nanoseconds
        if level >= threshold && logPolicy.logs(status: record.status) {
            var line: [UInt8] = []
            let durationMicros = Int((endedAtNanos &- record.receivedAtNanos) / 1000)
            RequestLog.encode(record, level: level, label: label, durationMicros: durationMicros, to: &line)
            sink.write(line)
        }
        audit?.record(record, endedAtNanos: endedAtNanos)
        metrics.serverAnswered(status: record.status, outcome: outcome)
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
