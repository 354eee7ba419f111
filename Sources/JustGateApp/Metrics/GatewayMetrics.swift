import JustGateCore
import Prometheus
import Synchronization

/// The gateway's metrics: a swift-prometheus registry of its own (one per runtime, so tests can run several
/// gateways in one process), served as Prometheus text by the admin listener.
///
/// Every family is registered with its HELP text (`MetricHelp`). Every counter that has no label, or whose
/// labels come from a fixed set, is made here at 0, so `rate()` and `increase()` work from the first scrape
/// and an alert on a counter's increase cannot miss the first event: a series that appears already at 1 has
/// no increase to see.
///
/// Recording takes no lock shared by the event loops for counters (atomics). Histograms take a lock per
/// (site, operation) series, shared by the loops: held for 14 bucket comparisons (tens of nanoseconds) per
/// observation, it is busy well under 1% of the time at the benchmarked 24k requests/s, so a per-loop `worker` label (which multiplied every histogram's
/// 17 series by the number of loops) did not pay for itself and is gone. Each loop still caches its metric
/// objects in a `LoopMetrics`, so a request costs dictionary lookups, not registry lookups.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Request and upstream durations, from 0.5 ms to 10 s.
    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]
    private let reloadsSucceeded: Counter
    private let reloadsFailed: Counter
    /// Shared by the loops: one atomic, not a series per loop.
    let logLinesDropped: Counter
    private let openConnections: Gauge
    private let inFlight: Gauge
    private let circuit: [(state: CircuitState, gauge: Gauge)]
    private let auditWriteErrorCounter: Counter
    private let fallbackActive: Gauge
    private let process: ProcessMetrics
    private let auditWriteErrors = Mutex(0)

    public init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        reloadsSucceeded = registry.counter("justgate_reloads_total", [("result", "ok")])
        reloadsFailed = registry.counter("justgate_reloads_total", [("result", "failed")])
        logLinesDropped = registry.counter("justgate_log_lines_dropped_total")
        openConnections = registry.gauge("justgate_open_connections")
        inFlight = registry.gauge("justgate_upstream_in_flight")
        auditWriteErrorCounter = registry.counter("justgate_audit_write_errors_total")
        fallbackActive = registry.gauge("justgate_rate_limit_fallback_active")
        circuit = [CircuitState.closed, .open, .halfOpen].map { state in
            (state, registry.gauge("justgate_upstream_circuit_state", [("state", state.rawValue)]))
        }
        // Operation ids are the catalogue's (a config may move an operation's path, never rename it).
        for operation in Catalogue.standardOperations {
            _ = registry.counter("justgate_upstream_retries_total", [("operation", operation.id)])
        }
        registry.gauge("justgate_build_info", [("version", JustGateVersion.current), ("swift", JustGateVersion.swift)])
            .set(to: 1)
        process = ProcessMetrics(registry: registry)
    }

    /// The recorder one event loop uses; confined to that loop.
    func recorder() -> LoopMetrics {
        LoopMetrics(registry: registry, logLinesDropped: logLinesDropped)
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
        /// The sites of the config in use, for `justgate_site_key_expiry_seconds`.
        public var sites: [SiteConfig] = []
        /// The gateway's wall clock (Unix seconds), against which key expiries are counted.
        public var now: Int64 = 0
        /// Each configured site key (by fingerprint) and when it was last used, Unix seconds (0: not since start).
        var siteKeysLastUsed: [(site: String, key: String, unixSeconds: Int64)] = []
        /// The Vault source's state; nil without `secrets.vault` (then its two families have no samples).
        public var secretSource: VaultSecretSource.Status?
        /// The outbox at this scrape; nil without one (its families then have no samples).
        public var outbox: OutboxReadings?
    }

    /// Prometheus text exposition; values that are read rather than counted are set first.
    public func exposition(_ readings: Readings) -> [UInt8] {
        openConnections.record(Int64(readings.openConnections))
        inFlight.record(Int64(readings.upstreamInFlight))
        for (state, gauge) in circuit { gauge.set(to: state == readings.circuit ? 1 : 0) }
        fallbackActive.set(to: readings.rateLimitFallbackActive ? 1 : 0)
        if let errors = readings.auditWriteErrors {
            // Counted by the writer thread; brought up to date here, so the exposition is a counter.
            auditWriteErrors.withLock { reported in
                if errors > reported { auditWriteErrorCounter.increment(by: Int64(errors - reported)) }
                reported = max(reported, errors)
            }
        }
        process.update(ProcessReadings.current())
        var buffer = registry.emitToBuffer()
        SiteKeyMetrics.appendExpiry(sites: readings.sites, now: readings.now, into: &buffer)
        SiteKeyMetrics.appendLastUsed(readings.siteKeysLastUsed, into: &buffer)
        SecretSourceMetric.append(readings.secretSource, into: &buffer)
        OutboxMetrics.append(readings.outbox, into: &buffer)
        return buffer
    }
}
