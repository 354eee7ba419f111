import JustGateCore
import JustGateUpstream
import Prometheus

/// One event loop's cache of metric objects, made on first use and kept, so recording a request is a few
/// dictionary lookups and atomic updates (and a histogram's short lock), never a registry lookup. The objects
/// themselves are shared: every loop records into the same series (see `GatewayMetrics` for why there is no
/// `worker` label). Confined to its loop.
final class LoopMetrics {
    private let registry: PrometheusCollectorRegistry

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
    private var requests: [RequestKey: Counter] = [:]
    private var durations: [OperationKey: DurationHistogram] = [:]
    private var upstreamDurations: [OperationKey: DurationHistogram] = [:]
    private var problems: [ProblemKey: Counter] = [:]
    private var limited: [OperationKey: Counter] = [:]
    private var retries: [OperationKey: Counter] = [:]
    private var failures: [RequestKey: Counter] = [:]
    /// The series the previous request was counted in. Requests in a row mostly share site, operation, status and
    /// outcome, and comparing their label strings (the same string objects each time: the config's ids, the cached
    /// status labels, the outcomes' literals) costs a few instructions where hashing them for the dictionaries
    /// above cost ~3,000 per request.
    private var lastRequest: (key: RequestKey, counter: Counter)?
    private var lastDuration: (key: OperationKey, histogram: DurationHistogram)?
    private var lastUpstreamDuration: (key: OperationKey, histogram: DurationHistogram)?
    private let droppedLines: Counter
    /// `MetricLabels.status` by status code, worked out once per code: it looks the reason phrase up in a
    /// set of strings (~700 instructions), for every request.
    private var statusLabels = [String?](repeating: nil, count: 600)

    init(registry: PrometheusCollectorRegistry, logLinesDropped: Counter) {
        self.registry = registry
        self.droppedLines = logLinesDropped
    }

    /// A successful request's log line left out by `log.sample_success`.
    func logLineDropped() { droppedLines.increment() }

    /// Counts one finished request: by site, operation, status and outcome; its duration, upstream
    /// time and retries; its field problems; the policy that refused it. `durationNanos` is nil for an answer
    /// the server made by itself: its time (up to a whole header or body timeout for a 408) says nothing
    /// about the gateway's service, so it stays out of `justgate_request_duration_seconds`.
    func observe(_ record: RequestRecord, durationNanos: Int64?) {
        let site = record.siteID ?? "-"
        let operation = record.operationID ?? "-"
        let status = statusLabel(record.status)
        let outcome = record.outcome?.rawValue ?? "-"
        let key = RequestKey(site: site, operation: operation, status: status, outcome: outcome)
        if let last = lastRequest, last.key == key {
            last.counter.increment()
        } else {
            let made = counter(&requests, key, "justgate_requests_total", [
                ("site", site), ("operation", operation), ("status", status), ("outcome", outcome),
            ])
            lastRequest = (key, made)
            made.increment()
        }
        let pair = OperationKey(site: site, operation: operation)
        if let durationNanos {
            timer(&durations, &lastDuration, pair, "justgate_request_duration_seconds").recordNanoseconds(durationNanos)
        }
        if record.attempts > 1 {
            counter(&retries, OperationKey(site: "", operation: operation), "justgate_upstream_retries_total",
                    [("operation", operation)]).increment(by: Int64(record.attempts - 1))
        }
        if let reason = record.failureReason {
            // `reason` is a closed set (`UpstreamFailureReason`), so this adds at most sites × operations × reasons.
            counter(&failures, RequestKey(site: site, operation: operation, status: "", outcome: reason.rawValue),
                    "justgate_upstream_failures_total",
                    [("site", site), ("operation", operation), ("reason", reason.rawValue)]).increment()
        }
        if let upstream = record.upstreamNanos {
            timer(&upstreamDurations, &lastUpstreamDuration, pair, "justgate_upstream_duration_seconds")
                .recordNanoseconds(Int64(upstream))
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

    private func statusLabel(_ status: Int) -> String {
        guard statusLabels.indices.contains(status) else { return MetricLabels.status(status) }
        if let known = statusLabels[status] { return known }
        let made = MetricLabels.status(status)
        statusLabels[status] = made
        return made
    }

    /// `labels` is built only on a cache miss: an array literal passed by value was allocated (and its
    /// strings retained) for every request, found in the cache or not.
    private func counter<Key: Hashable>(_ cache: inout [Key: Counter], _ key: Key, _ name: String,
                                        _ labels: @autoclosure () -> [(String, String)]) -> Counter {
        if let known = cache[key] { return known }
        let made = registry.counter(name, labels())
        cache[key] = made
        return made
    }

    /// The histogram for `key`: the one `last` holds when the previous request had the same key, else from `cache`.
    private func timer(_ cache: inout [OperationKey: DurationHistogram], _ last: inout (key: OperationKey, histogram: DurationHistogram)?,
                       _ key: OperationKey, _ name: String) -> DurationHistogram {
        if let last, last.key == key { return last.histogram }
        if let known = cache[key] {
            last = (key, known)
            return known
        }
        let made = registry.durationHistogram(name, [("site", key.site), ("operation", key.operation)],
                                              buckets: GatewayMetrics.durationBuckets)
        cache[key] = made
        last = (key, made)
        return made
    }
}
