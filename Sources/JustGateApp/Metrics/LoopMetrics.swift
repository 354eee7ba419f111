import CoreMetrics
import JustGateCore
import JustGateUpstream
import Prometheus

/// One event loop's metric objects, made on first use and kept, so recording a request is a few
/// dictionary lookups and atomic or loop-private updates. Confined to its loop.
final class LoopMetrics {
    private let factory: PrometheusMetricsFactory
    private let worker: String

    private struct RequestKey: Hashable {
        var site: String
        var operation: String
        var status: String
        var outcome: String
    }
    private struct OperationKey: Hashable {
        var site: String
        var operation: String
    }
    private struct ProblemKey: Hashable {
        var operation: String
        var field: String
        var code: String
    }
    private var requests: [RequestKey: CoreMetrics.Counter] = [:]
    private var durations: [OperationKey: CoreMetrics.Timer] = [:]
    private var upstreamDurations: [OperationKey: CoreMetrics.Timer] = [:]
    private var problems: [ProblemKey: CoreMetrics.Counter] = [:]
    private var limited: [OperationKey: CoreMetrics.Counter] = [:]
    private var retries: [OperationKey: CoreMetrics.Counter] = [:]
    private var failures: [RequestKey: CoreMetrics.Counter] = [:]
    private lazy var droppedLines = CoreMetrics.Counter(label: "justgate_log_lines_dropped_total",
                                                        dimensions: [("worker", worker)], factory: factory)

    init(factory: PrometheusMetricsFactory, worker: String) {
        self.factory = factory
        self.worker = worker
    }

    /// A successful request's log line left out by `log.sample_success`.
    func logLineDropped() { droppedLines.increment() }

    /// Counts one finished request: by site, operation, status and outcome; its duration, upstream
    /// time and retries; its field problems; the policy that refused it.
    func observe(_ record: RequestRecord, durationNanos: Int64) {
        let site = record.siteID ?? "-"
        let operation = record.operationID ?? "-"
        let status = MetricLabels.status(record.status)
        let key = RequestKey(site: site, operation: operation, status: status, outcome: record.outcome)
        counter(&requests, key, "justgate_requests_total", [
            ("site", site), ("operation", operation), ("status", status), ("outcome", record.outcome),
        ]).increment()
        let pair = OperationKey(site: site, operation: operation)
        timer(&durations, pair, "justgate_request_duration_seconds").recordNanoseconds(durationNanos)
        if record.attempts > 1 {
            counter(&retries, OperationKey(site: "", operation: operation), "justgate_upstream_retries_total",
                    [("operation", operation)]).increment(by: record.attempts - 1)
        }
        if let reason = record.failureReason {
            // `reason` is a closed set (`UpstreamFailureReason`), so this adds at most sites × operations × reasons.
            counter(&failures, RequestKey(site: site, operation: operation, status: "", outcome: reason.rawValue),
                    "justgate_upstream_failures_total",
                    [("site", site), ("operation", operation), ("reason", reason.rawValue)]).increment()
        }
        if let upstream = record.upstreamNanos {
            timer(&upstreamDurations, pair, "justgate_upstream_duration_seconds").recordNanoseconds(Int64(upstream))
        }
        // The field a problem names may be one the caller invented (an unknown field, a member of `data`):
        // such names become one label value, or every invented name would make a series (see `MetricLabels`).
        for (rawField, rawCode) in zip(record.problemFields, record.problemCodes) {
            let field = MetricLabels.field(rawField, operation: operation)
            let code = MetricLabels.code(rawCode)
            counter(&problems, ProblemKey(operation: operation, field: field, code: code), "justgate_validation_failures_total",
                    [("operation", operation), ("field", field), ("code", code)]).increment()
        }
        if let policies = record.policy {
            for policy in policies.split(separator: ",") {
                counter(&limited, OperationKey(site: site, operation: String(policy)), "justgate_rate_limited_total",
                        [("site", site), ("policy", String(policy))]).increment()
            }
        }
    }

    private func counter<Key: Hashable>(_ cache: inout [Key: CoreMetrics.Counter], _ key: Key, _ name: String,
                                        _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        if let known = cache[key] { return known }
        let made = CoreMetrics.Counter(label: name, dimensions: dimensions + [("worker", worker)], factory: factory)
        cache[key] = made
        return made
    }

    private func timer(_ cache: inout [OperationKey: CoreMetrics.Timer], _ key: OperationKey, _ name: String) -> CoreMetrics.Timer {
        if let known = cache[key] { return known }
        let made = CoreMetrics.Timer(label: name, dimensions: [("site", key.site), ("operation", key.operation), ("worker", worker)],
                                     factory: factory)
        cache[key] = made
        return made
    }
}
