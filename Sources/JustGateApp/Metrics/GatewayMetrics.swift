import CoreMetrics
import JustGateCore
import Prometheus
import Synchronization

/// The gateway's metrics, recorded through swift-metrics into a swift-prometheus registry of its
/// own (one per runtime, so tests can run several gateways in one process) and served as Prometheus
/// text by the admin listener.
///
/// The request path takes no lock shared by the event loops: every metric a loop records carries
/// that loop's `worker` label, so each histogram's lock is only ever taken by one loop (and by a
/// scrape); counters and gauges are atomics. Each loop caches its metric objects in a
/// `LoopMetrics`, so a request costs dictionary lookups, not registry lookups.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    private let reloadsSucceeded: CoreMetrics.Counter
    private let reloadsFailed: CoreMetrics.Counter
    private let openConnections: CoreMetrics.Gauge
    private let inFlight: CoreMetrics.Gauge
    private let circuit: [(state: CircuitState, gauge: CoreMetrics.Gauge)]
    private let auditWriteErrorCounter: CoreMetrics.Counter
    private let fallbackActive: CoreMetrics.Gauge
    private let auditWriteErrors = Mutex(0)

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        self.factory = factory
        reloadsSucceeded = CoreMetrics.Counter(label: "justgate_reloads_total", dimensions: [("result", "ok")], factory: factory)
        reloadsFailed = CoreMetrics.Counter(label: "justgate_reloads_total", dimensions: [("result", "failed")], factory: factory)
        openConnections = CoreMetrics.Gauge(label: "justgate_open_connections", factory: factory)
        inFlight = CoreMetrics.Gauge(label: "justgate_upstream_in_flight", factory: factory)
        auditWriteErrorCounter = CoreMetrics.Counter(label: "justgate_audit_write_errors_total", factory: factory)
        fallbackActive = CoreMetrics.Gauge(label: "justgate_rate_limit_fallback_active", factory: factory)
        circuit = [CircuitState.closed, .open, .halfOpen].map { state in
            (state, CoreMetrics.Gauge(label: "justgate_upstream_circuit_state", dimensions: [("state", state.rawValue)], factory: factory))
        }
    }

    /// The recorder one event loop uses; confined to that loop.
    func recorder(worker: Int) -> LoopMetrics {
        LoopMetrics(factory: factory, worker: String(worker))
    }

    /// A request the server answered by itself (malformed HTTP, timeouts, limits, the connection cap),
    /// on whichever loop: rare, so it goes through the registry rather than a loop's cache.
    func serverAnswered(status: Int, outcome: String) {
        CoreMetrics.Counter(label: "justgate_requests_total", dimensions: [
            ("site", "-"), ("operation", "-"), ("status", MetricLabels.status(status)), ("outcome", outcome), ("worker", "server"),
        ], factory: factory).increment()
    }

    func reloaded(ok: Bool) {
        (ok ? reloadsSucceeded : reloadsFailed).increment()
    }

    /// What is read rather than counted, at the moment of a scrape.
    public struct Readings: Sendable {
        public var openConnections: Int
        public var upstreamInFlight: Int
        public var circuit: CircuitState
        /// Failed audit writes since start; nil without an audit log.
        public var auditWriteErrors: Int?
        /// Whether the Redis limiter is down and `on_backend_error` is deciding (always false in memory).
        public var rateLimitFallbackActive = false
        /// Each configured site key (by fingerprint) and when it was last used, Unix seconds (0: not since start).
        var siteKeysLastUsed: [(site: String, key: String, unixSeconds: Int64)] = []
    }

    /// Prometheus text exposition; values that are read rather than counted are set first.
    public func exposition(_ readings: Readings) -> [UInt8] {
        openConnections.record(readings.openConnections)
        inFlight.record(readings.upstreamInFlight)
        for (state, gauge) in circuit { gauge.record(state == readings.circuit ? 1 : 0) }
        fallbackActive.record(readings.rateLimitFallbackActive ? 1 : 0)
        // Labels from the config (sites and their keys' fingerprints): bounded like every other site label.
        for use in readings.siteKeysLastUsed {
            CoreMetrics.Gauge(label: "justgate_site_key_last_used_timestamp_seconds",
                              dimensions: [("site", use.site), ("key", use.key)], factory: factory).record(use.unixSeconds)
        }
        if let errors = readings.auditWriteErrors {
            // Counted by the writer thread; brought up to date here, so the exposition is a counter.
            auditWriteErrors.withLock { reported in
                if errors > reported { auditWriteErrorCounter.increment(by: errors - reported) }
                reported = max(reported, errors)
            }
        }
        return registry.emitToBuffer()
    }
}
