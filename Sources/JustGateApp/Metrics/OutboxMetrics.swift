import JustGateCore

/// Totals the outbox counts as it goes, read at scrape time (`OutboxFileStore.readings`).
public struct OutboxCounts: Sendable, Equatable {
    /// Calls kept (durable), by site.
    public var deferred: [String: Int] = [:]
    /// Entries delivered (upstream 2xx), by site.
    public var delivered: [String: Int] = [:]
    /// Entries that went dead (refused by the upstream, or past max_age), by site.
    public var dead: [String: Int] = [:]
    /// Delivery attempts by outcome: delivered, refused (a 4xx: dead), retry_status (5xx, 408, 429),
    /// failed (no answer), held (circuit open or max_in_flight: not sent).
    public var attempts: [String: Int] = [:]

    mutating func count(_ attempt: DeliveryAttempt, verdict: DeliveryVerdict, site: String) {
        let outcome = switch attempt {
        case .answered(let status) where (200...299).contains(status): "delivered"
        case .answered(let status) where DeliveryPolicy.isRetryable(status: status): "retry_status"
        case .answered: "refused"
        case .failed: "failed"
        case .held: "held"
        }
        attempts[outcome, default: 0] += 1
        switch verdict {
        case .delivered: delivered[site, default: 0] += 1
        case .dead: dead[site, default: 0] += 1
        case .retry: break
        }
    }
}

/// The outbox at one scrape.
public struct OutboxReadings: Sendable {
    public var sites: [String: (pending: Int, dead: Int, oldestAgeSeconds: Double)]
    public var bytes: Int
    public var maxBytes: Int
    public var counts: OutboxCounts
}

/// The outbox's metric families, written at scrape time like `SecretSourceMetric`: one series per site at most
/// (sites are few and configured) and five attempt outcomes. Without an outbox the families have HELP and
/// TYPE but no sample.
enum OutboxMetrics {
    static let depth = "justgate_outbox_depth"
    static let oldestAge = "justgate_outbox_oldest_age_seconds"
    static let deadEntries = "justgate_outbox_dead_entries"
    static let bytes = "justgate_outbox_bytes"
    static let maxBytes = "justgate_outbox_max_bytes"
    static let deferredTotal = "justgate_outbox_deferred_total"
    static let deliveredTotal = "justgate_outbox_delivered_total"
    static let deadTotal = "justgate_outbox_dead_total"
    static let attemptsTotal = "justgate_outbox_delivery_attempts_total"

    static func append(_ readings: OutboxReadings?, into buffer: inout [UInt8]) {
        let sites = readings.map { Array($0.sites.keys).sorted() } ?? []
        gauge(depth, sites.map { ($0, Double(readings?.sites[$0]?.pending ?? 0)) }, into: &buffer)
        gauge(oldestAge, sites.map { ($0, readings?.sites[$0]?.oldestAgeSeconds ?? 0) }, into: &buffer)
        gauge(deadEntries, sites.map { ($0, Double(readings?.sites[$0]?.dead ?? 0)) }, into: &buffer)
        for (name, value) in [(bytes, readings?.bytes), (maxBytes, readings?.maxBytes)] {
            MetricHelp.appendGaugeHeader(name, into: &buffer)
            if let value { buffer.append(contentsOf: "\(name) \(value)\n".utf8) }
        }
        let counts = readings?.counts
        counter(deferredTotal, label: "site", counts?.deferred ?? [:], into: &buffer)
        counter(deliveredTotal, label: "site", counts?.delivered ?? [:], into: &buffer)
        counter(deadTotal, label: "site", counts?.dead ?? [:], into: &buffer)
        counter(attemptsTotal, label: "outcome", counts?.attempts ?? [:], into: &buffer)
    }

    private static func gauge(_ name: String, _ samples: [(String, Double)], into buffer: inout [UInt8]) {
        MetricHelp.appendGaugeHeader(name, into: &buffer)
        for (site, value) in samples {
            buffer.append(contentsOf: "\(name){site=\"\(site)\"} \(value)\n".utf8)
        }
    }

    private static func counter(_ name: String, label: String, _ values: [String: Int], into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "# HELP \(name) \(MetricHelp.text(name))\n# TYPE \(name) counter\n".utf8)
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            buffer.append(contentsOf: "\(name){\(label)=\"\(key)\"} \(value)\n".utf8)
        }
    }
}
