#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import OutboxBenchSupport
import JustGateCore
import Logging
import Synchronization

// Draining an outbox after an outage without starving live calls (issue 25: live p99 within 1.2x of no-drain).
//
// Fills an outbox (file backend) with `--entries` pending calls directly through the store, as an outage would
// have left them, then runs a gateway (in this process, `GatewayRuntime`, as `serve` does) against `--upstream`
// in passes of `--seconds`: without a drain (an empty outbox) and with one (the filled outbox, which its event
// loops deliver), while `--connections` client threads send paced live calls (one request, an answer,
// `--pace-ms` of rest). The first `--warmup-ms` of each pass are not measured (connections, the pacer's ramp).
//
// Telling 1.2x from 1.35x on a shared 2-core box: a pass's p99 moves by tens of percent with what else runs, so
// the passes are interleaved (A B, then B A, round after round), each drain pass is compared with the no-drain
// pass next to it, and the summary gives the median of those per-round ratios with their spread, the ratio of
// the pooled p99s, the entries delivered per second, and the load average at each pass. Before each drain pass
// the outbox is topped up to `--entries`, and the pass samples its depth every 50 ms, so it says whether the
// drain ever ran out of backlog (a pass that emptied is flagged; its rate is then a lower bound).
// Everything is on 127.0.0.1. The client threads share this process (and the machine) with the gateway in both
// passes alike.
//
// Usage: OutboxDrain --upstream URL --token TOKEN [--entries N] [--seconds N] [--warmup-ms N] [--connections N]
//                    [--pace-ms N] [--rounds N] [--min-delivery-rate N] [--dir PATH]

guard let upstream = text("--upstream"), let token = text("--token") else {
    fail("usage: OutboxDrain --upstream URL --token TOKEN [--entries N] [--seconds N] [--warmup-ms N] [--connections N] "
         + "[--pace-ms N] [--rounds N] [--min-delivery-rate N] [--dir PATH]")
}
let entries = option("--entries", 100_000)
let seconds = option("--seconds", 6)
let warmupMs = option("--warmup-ms", 1000)
let connections = option("--connections", 8)
let paceMs = option("--pace-ms", 5)
let rounds = option("--rounds", 8)
/// The gateway's `outbox.min_delivery_rate`; 0 leaves the key out (the default).
let minDeliveryRate = option("--min-delivery-rate", 0)
let base = text("--dir") ?? NSTemporaryDirectory() + "justgate-drain-bench-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: base) }
/// One line to standard output, unbuffered: a run that dies midway still shows how far it got.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
let siteKey = "drain-bench-site-key"
setenv("JUST_TOKEN_BENCH", token, 1)

let quiet = LogSink(fd: open("/dev/null", O_WRONLY))
let logger = Logger(label: "drain-bench") { JSONLogHandler(label: $0, level: .warning, sink: .standardError) }

/// The 1-minute load average, for the record next to each pass.
func loadAverage() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
          let first = text.split(separator: " ").first, let value = Double(first) else { return -1 }
    return value
}

/// Tops the outbox at `path` up to `count` pending calls, in rounds that wait until durable, and closes it;
/// returns how many it added. `kept` numbers the entries across refills (request ids and juids of their own).
func topUp(_ path: String, to count: Int, numbering kept: inout Int) -> Int {
    var config = OutboxConfig()
    config.path = path
    config.maxBytes = 1 << 40
    let store: OutboxFileStore
    do { store = try OutboxFileStore(config: config, logger: logger) } catch { fail("cannot open \(path): \(error)") }
    let missing = max(0, count - store.depth.pending)
    let refused = Atomic(0)
    var added = 0
    while added < missing {
        let round = min(1000, missing - added)
        let done = DispatchGroup()
        for _ in 0..<round {
            added += 1
            kept += 1
            // Five calls per juid, so order per juid is exercised as the engines drain.
            let juid = String(format: "%032x", kept / 5)
            done.enter()
            store.keep(DeferredCall(siteID: "bench", operationID: "subscribe.sms", juid: juid, method: "POST",
                                    target: "/api/user/v1/subscription/subscribe/sms",
                                    body: Array("juid=\(juid)&number=79123456789".utf8),
                                    contentType: "application/x-www-form-urlencoded", requestID: "drain-\(kept)")) { result in
                if case .failure = result { refused.add(1, ordering: .relaxed) }
                done.leave()
            }
        }
        done.wait()
    }
    store.stop()
    if refused.load(ordering: .relaxed) > 0 { fail("\(refused.load(ordering: .relaxed)) entries were refused while filling") }
    return missing
}

func gateway(outbox path: String) -> GatewayRuntime {
    let floor = minDeliveryRate > 0 ? ", min_delivery_rate: \(minDeliveryRate)" : ""
    let yaml = """
        listen: 127.0.0.1:0
        upstream: { url: \(upstream), connect_timeout_ms: 2000, timeout_ms: 10000 }
        server: { workers: 2, max_connections: 20000 }
        outbox: { path: \(path), max_bytes: 1099511627776\(floor) }
        sites:
          - id: bench
            key_sha256: "\(SiteKeys.sha256Hex(siteKey))"
            upstream_token: { env: JUST_TOKEN_BENCH }
            phone: { default_country_code: "7", trunk_prefix: "8" }
            defer: [subscribe.sms]
        audit: { enabled: false }
        """
    do {
        let loaded = try ConfigLoader.load(yaml: yaml, knownOperations: Catalogue().ids).get()
        let sites = try SecretResolver.resolve(loaded.config.sites, environment: ProcessSecretEnvironment()).get()
        return try GatewayRuntime(config: loaded.config, sites: sites, logger: logger, requestLogSink: quiet)
    } catch {
        fail("cannot start the gateway: \(error)")
    }
}
/// One blocking keep-alive connection that sends the live call and reads its answer.
final class LiveConnection {
    /// A call unanswered for 2 s counts as failed rather than hanging the pass.
    private let connection: KeepAliveClient
    private let request: [UInt8]

    init(port: Int) {
        connection = KeepAliveClient(port: port, receiveTimeoutSeconds: 2)
        let body = "juid=de6f0132ea9e412599ae31262c45633b&number=8+(912)+345-67-89"
        request = Array(("POST /api/user/v1/subscription/subscribe/sms HTTP/1.1\r\nHost: bench\r\nX-AUTH-TOKEN: \(siteKey)\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)").utf8)
    }

    func close() { connection.close() }

    /// The answer's status, or nil when the exchange failed (the connection is then closed).
    func exchange() -> Int? { connection.exchange(request) }
}

@Sendable func nowMicros() -> Int {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return spec.tv_sec * 1_000_000 + spec.tv_nsec / 1000
}

/// The `fraction` percentile of `values` (microseconds), in milliseconds.
func percentile(_ values: [Int], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1000
}

func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

struct PassResult {
    /// Live calls' latencies (microseconds) after the warm-up.
    var latenciesMicros: [Int]
    var failures: Int
    /// Entries delivered over the measured seconds.
    var delivered: Int
    var seconds: Double
    var loadAverage: Double
    var pendingAtStart: Int
    /// Seconds into the measured part when the outbox was first seen empty; nil if it never was.
    var emptiedAfter: Double?

    var p99: Double { percentile(latenciesMicros, 0.99) }
    var deliveredPerSecond: Double { Double(delivered) / seconds }
}

/// Live calls against a gateway on `outbox path` for `seconds` after a warm-up of `warmupMs`.
func pass(outbox path: String) -> PassResult {
    let load = loadAverage()
    let runtime = gateway(outbox: path)
    let stop = Atomic(false)
    let measureFrom = Atomic(Int.max)
    let collected = Mutex<(latencies: [Int], failures: Int)>(([], 0))
    let done = DispatchGroup()
    let port = runtime.address.port
    for _ in 0..<connections {
        done.enter()
        Thread {
            let connection = LiveConnection(port: port)
            var latencies: [Int] = []
            var failures = 0
            while !stop.load(ordering: .relaxed) {
                let started = nowMicros()
                let status = connection.exchange()
                let measured = started >= measureFrom.load(ordering: .relaxed)
                if status == 200 {
                    if measured { latencies.append(nowMicros() - started) }
                } else if measured {
                    failures += 1
                }
                usleep(UInt32(paceMs * 1000))
            }
            connection.close()
            collected.withLock { $0.latencies += latencies; $0.failures += failures }
            done.leave()
        }.start()
    }
    usleep(UInt32(warmupMs) * 1000)
    let pendingAtStart = runtime.outbox?.depth.pending ?? 0
    let started = nowMicros()
    measureFrom.store(started, ordering: .relaxed)
    // The depth every 50 ms: a drain that runs out of backlog is not measuring what it claims to.
    var emptiedAfter: Double?
    let end = started + seconds * 1_000_000
    while nowMicros() < end {
        usleep(UInt32(min(50_000, max(1, end - nowMicros()))))
        if emptiedAfter == nil, pendingAtStart > 0, (runtime.outbox?.depth.pending ?? 0) == 0 {
            emptiedAfter = Double(nowMicros() - started) / 1e6
        }
    }
    let after = runtime.outbox?.depth.pending ?? 0
    let elapsed = Double(nowMicros() - started) / 1e6
    stop.store(true, ordering: .relaxed)
    done.wait()
    runtime.stop()
    return collected.withLock {
        PassResult(latenciesMicros: $0.latencies, failures: $0.failures, delivered: pendingAtStart - after, seconds: elapsed,
                   loadAverage: load, pendingAtStart: pendingAtStart, emptiedAfter: emptiedAfter)
    }
}

func report(_ name: String, _ result: PassResult) {
    var line = String(format: "%@: load %.2f, live calls %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, failed %d",
                      name, result.loadAverage, Double(result.latenciesMicros.count) / result.seconds,
                      percentile(result.latenciesMicros, 0.5), result.p99, percentile(result.latenciesMicros, 1.0),
                      result.failures)
    if result.pendingAtStart > 0 {
        line += String(format: "; outbox %d pending, delivered %d (%.0f/s)", result.pendingAtStart, result.delivered,
                       result.deliveredPerSecond)
        if let emptied = result.emptiedAfter { line += String(format: ", EMPTIED after %.1f s", emptied) }
    }
    say(line)
}

let filled = "\(base)/filled"
let empty = "\(base)/empty"
var kept = 0
let fillStarted = nowMicros()
_ = topUp(filled, to: entries, numbering: &kept)
say(String(format: "filled the outbox with %d pending entries in %.1f s; %d rounds of a no-drain and a draining pass of %d s "
             + "(after %d ms of warm-up), order alternating", entries, Double(nowMicros() - fillStarted) / 1e6, rounds,
             seconds, warmupMs))
var idle: [PassResult] = []
var draining: [PassResult] = []
var ratios: [Double] = []
for round in 1...max(1, rounds) {
    let drainFirst = round % 2 == 0
    var quietPass: PassResult?
    var drainPass: PassResult?
    for drain in drainFirst ? [true, false] : [false, true] {
        if drain {
            let added = topUp(filled, to: entries, numbering: &kept)
            if added > 0 { say("round \(round): topped the outbox up by \(added) entries") }
            let result = pass(outbox: filled)
            report("round \(round) draining", result)
            drainPass = result
        } else {
            let result = pass(outbox: empty)
            report("round \(round) no drain", result)
            quietPass = result
        }
    }
    guard let quietPass, let drainPass else { continue }
    idle.append(quietPass)
    draining.append(drainPass)
    if quietPass.p99 > 0 { ratios.append(drainPass.p99 / quietPass.p99) }
}
let sortedRatios = ratios.sorted()
let ratio = median(ratios)
let pooled = percentile(draining.flatMap(\.latenciesMicros), 0.99) / max(percentile(idle.flatMap(\.latenciesMicros), 0.99), 0.001)
let rates = draining.map(\.deliveredPerSecond)
let loads = (idle + draining).map(\.loadAverage)
let emptied = draining.filter { $0.emptiedAfter != nil }.count
say(String(format: "per-round ratios of live p99 (draining / no drain): %@",
           ratios.map { String(format: "%.2f", $0) }.joined(separator: " ")))
say(String(format: "live p99 without a drain: median %.2f ms (%.2f..%.2f); while draining: median %.2f ms (%.2f..%.2f)",
           median(idle.map(\.p99)), idle.map(\.p99).min() ?? 0, idle.map(\.p99).max() ?? 0,
           median(draining.map(\.p99)), draining.map(\.p99).min() ?? 0, draining.map(\.p99).max() ?? 0))
say(String(format: "entries delivered per second while draining: median %.0f (%.0f..%.0f); load average %.2f..%.2f%@",
           median(rates), rates.min() ?? 0, rates.max() ?? 0, loads.min() ?? 0, loads.max() ?? 0,
           emptied > 0 ? "; \(emptied) drain passes ran out of backlog (their rate is a lower bound)" : ""))
say(String(format: "ratio: median of %d rounds %.2fx (min %.2f, max %.2f, middle half %.2f..%.2f), pooled p99s %.2fx -> %@",
           ratios.count, ratio, sortedRatios.first ?? 0, sortedRatios.last ?? 0,
           sortedRatios.isEmpty ? 0 : sortedRatios[sortedRatios.count / 4],
           sortedRatios.isEmpty ? 0 : sortedRatios[(sortedRatios.count * 3) / 4 - (sortedRatios.count % 4 == 0 ? 1 : 0)],
           pooled, ratio <= 1.2 ? "PASS (within 1.2x)" : "ABOVE TARGET (more than 1.2x)"))
