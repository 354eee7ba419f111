import Prometheus
import Synchronization

/// The standard `process_*` families in the registry, set from a `ProcessReadings` at each scrape.
///
/// `process_cpu_seconds_total` is a counter, as every client library exports it; the registry's counters can
/// only be incremented, so each scrape adds what the kernel's total grew by since the last one.
final class ProcessMetrics: Sendable {
    private let cpuSeconds: Counter
    private let residentBytes: Gauge
    private let openFileDescriptors: Gauge
    private let maxFileDescriptors: Gauge
    private let startTimeSeconds: Gauge
    /// The CPU total last added to `cpuSeconds`; scrapes may run concurrently.
    private let reportedCPUSeconds = Mutex(0.0)

    init(registry: PrometheusCollectorRegistry) {
        cpuSeconds = registry.counter("process_cpu_seconds_total")
        residentBytes = registry.gauge("process_resident_memory_bytes")
        openFileDescriptors = registry.gauge("process_open_fds")
        maxFileDescriptors = registry.gauge("process_max_fds")
        startTimeSeconds = registry.gauge("process_start_time_seconds")
    }

    func update(_ readings: ProcessReadings) {
        if let total = readings.cpuSeconds {
            reportedCPUSeconds.withLock { reported in
                if total > reported { cpuSeconds.increment(by: total - reported) }
                reported = max(reported, total)
            }
        }
        if let value = readings.residentBytes { residentBytes.set(value) }
        if let value = readings.openFileDescriptors { openFileDescriptors.set(value) }
        if let value = readings.maxFileDescriptors { maxFileDescriptors.set(value) }
        if let value = readings.startTimeSeconds { startTimeSeconds.set(value) }
    }
}
