import Prometheus

/// The `# HELP` text of every metric family the gateway exports, in one table an operator can read as
/// the list of what `/metrics` holds.
///
/// swift-prometheus writes a HELP line only for families registered with help text, and its swift-metrics
/// factory registers every family with none (and refuses a second registration of the same name with other
/// help text). So the gateway registers through the registry's own API, via the helpers below, which take
/// the help from this table: a family cannot be made without looking here. A name missing from the table
/// gets no HELP line, and `MetricsExpositionTests` fails on it.
enum MetricHelp {
    static let byName: [String: String] = [
        // Requests, as the pipeline and the server answered them.
        "justgate_requests_total": "Requests answered, by site (- before a key matched), operation (- when no path "
            + "matched), HTTP status (the upstream's when relayed) and outcome (forwarded, rejected_auth, rate_limited, "
            + "upstream_error, ...).",
        "justgate_request_duration_seconds": "Time from the request's first byte to its answer, by site and operation.",
        "justgate_upstream_duration_seconds": "Time spent on upstream calls of one request (all attempts), by site and "
            + "operation.",
        "justgate_upstream_retries_total": "Upstream attempts beyond the first, by operation.",
        "justgate_validation_failures_total": "Field problems found in requests (each refused with 422), by operation, "
            + "field and problem code.",
        "justgate_rate_limited_total": "Requests refused with 429, by site and the rate-limit policy that refused them.",
        "justgate_log_lines_dropped_total": "Successful requests' log lines left out by log.sample_success.",
        // The gateway's own state.
        "justgate_reloads_total": "Config reloads (SIGHUP, POST /reload), by result: ok (applied) or failed (the "
            + "previous config is still served).",
        "justgate_open_connections": "Client connections open on the site-facing listener.",
        "justgate_upstream_in_flight": "Upstream calls in progress.",
        "justgate_upstream_circuit_state": "The upstream circuit breaker: 1 for its current state (closed, open, "
            + "half_open), 0 for the others.",
        "justgate_audit_write_errors_total": "Audit records that could not be written to the audit log.",
        "justgate_rate_limit_fallback_active": "1 while Redis for shared limits is down and rate_limit.on_backend_error "
            + "decides; else 0.",
        "justgate_site_key_last_used_timestamp_seconds": "When each configured site key last authenticated a request, "
            + "Unix seconds (0: not since the gateway started); key is the key's fingerprint.",
        "justgate_upstream_failures_total": "Requests that got no usable upstream answer, by reason (connect_refused, "
            + "timeout_after_sending, circuit_open, upstream_auth_failed, ...).",
        "justgate_site_key_expiry_seconds": "Seconds until a site key with an expiry is refused (negative once "
            + "expired), by site and key fingerprint (first 12 hex digits of the key's SHA-256).",
        "justgate_secret_source_up": "1 while the secret source (source=vault) was reached by its last read, 0 while "
            + "it cannot be (requests go on with the last tokens read). Only with secrets.vault.",
        "justgate_secret_source_last_success_timestamp_seconds": "Unix time of the last read that got every secret "
            + "from the source (source=vault). Only with secrets.vault.",
        // The outbox (store and forward), only with sites that defer.
        "justgate_outbox_depth": "Deferred calls waiting for delivery, by site.",
        "justgate_outbox_oldest_age_seconds": "Age of the oldest deferred call still waiting, by site (0 when none waits).",
        "justgate_outbox_dead_entries": "Deferred calls that will not be tried again until an operator retries them "
            + "(POST /outbox/<id>/retry), by site.",
        "justgate_outbox_bytes": "Bytes the waiting and dead entries count against outbox.max_bytes.",
        "justgate_outbox_max_bytes": "outbox.max_bytes: past it a call that would be deferred is answered 503.",
        "justgate_outbox_deferred_total": "Calls kept in the outbox (on disk before their 202), by site.",
        "justgate_outbox_delivered_total": "Deferred calls the upstream accepted (2xx), by site.",
        "justgate_outbox_dead_total": "Deferred calls that went dead (the upstream refused them, or max_age_s passed), "
            + "by site.",
        "justgate_outbox_delivery_attempts_total": "Delivery attempts by outcome: delivered, refused (4xx: dead), "
            + "retry_status (5xx, 408, 429), failed (no answer), held (circuit open or max_in_flight: not sent).",
        "justgate_build_info": "Always 1; the labels say which justgate version runs and which Swift compiler built it.",
        // The process, under the names every Prometheus client library uses.
        "process_cpu_seconds_total": "User and system CPU time the process used, in seconds.",
        "process_resident_memory_bytes": "Resident memory of the process, in bytes.",
        "process_open_fds": "File descriptors the process has open.",
        "process_max_fds": "The process's limit on open file descriptors (RLIMIT_NOFILE, soft).",
        "process_start_time_seconds": "When the process started, in seconds since the Unix epoch.",
    ]

    /// The help text of `name`; empty (so no HELP line) for a name the table lacks.
    static func text(_ name: String) -> String { byName[name] ?? "" }

    /// The HELP and TYPE lines of a gauge family written at scrape time, outside the registry.
    static func appendGaugeHeader(_ name: String, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "# HELP \(name) \(text(name))\n# TYPE \(name) gauge\n".utf8)
    }
}

/// Registering with the help text of `MetricHelp`. The registry returns the existing metric for a name and
/// label set it already holds, so calling these again is a lookup, not a second series.
extension PrometheusCollectorRegistry {
    func counter(_ name: String, _ labels: [(String, String)] = []) -> Counter {
        makeCounter(descriptor: MetricHelp.descriptor(name), labels: labels)
    }

    func gauge(_ name: String, _ labels: [(String, String)] = []) -> Gauge {
        makeGauge(descriptor: MetricHelp.descriptor(name), labels: labels)
    }

    func durationHistogram(_ name: String, _ labels: [(String, String)], buckets: [Duration]) -> DurationHistogram {
        makeDurationHistogram(descriptor: MetricHelp.descriptor(name), labels: labels, buckets: buckets)
    }
}

extension MetricHelp {
    /// The whole name as the descriptor's base name (the unit is already part of it) with its help text.
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: text(name))
    }
}
