#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import OutboxBenchSupport
import JustGateCore
import Logging
import Synchronization

// CPU per deferral over a forwarded call (issue 25: at most 5 µs).
//
// Runs a gateway (`GatewayRuntime` in this process, as `serve` does, two loops, audit off) twice per round while
// `--connections` client threads send `subscribe.sms` calls back to back on keep-alive connections for
// `--seconds`, each with its own juid:
// - forwarded: the calls go to `--upstream` (nginx answering 200 at once) and are relayed;
// - deferred: the same calls with `Prefer: respond-async`, so each is kept in the outbox (file backend, group
//   fsync) and answered 202 once durable. This gateway's upstream is a closed port and its circuit opens on the
//   first failure, so the later delivery of the entries (a forwarded call's work) is not counted here.
// The gateway's CPU is the process's (getrusage) minus the client threads' own (CLOCK_THREAD_CPUTIME_ID): the
// outbox writer thread, its encoding and its fdatasync calls are counted. Prints CPU per answered call for each
// pass and the difference, against the 5 µs target, and each pass's round-trip p50 and p99 (a deferral's 202
// waits for its batch's fdatasync: what the CPU saved by larger batches may cost in latency).
//
// Usage: OutboxDeferralCost --upstream URL --token TOKEN [--seconds N] [--connections N] [--rounds N] [--dir PATH]

guard let upstream = text("--upstream"), let token = text("--token") else {
    fail("usage: OutboxDeferralCost --upstream URL --token TOKEN [--seconds N] [--connections N] [--rounds N] [--dir PATH]")
}
let seconds = option("--seconds", 5)
let connections = option("--connections", 8)
let rounds = option("--rounds", 3)
let base = text("--dir") ?? NSTemporaryDirectory() + "justgate-deferral-cost-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: base) }
let siteKey = "deferral-cost-site-key"
setenv("JUST_TOKEN_BENCH", token, 1)
let quiet = LogSink(fd: open("/dev/null", O_WRONLY))
let logger = Logger(label: "deferral-cost") { JSONLogHandler(label: $0, level: .error, sink: .standardError) }

/// A gateway whose upstream is `url`; `failFast` opens the circuit on the first failure for good.
func gateway(upstream url: String, outbox path: String, failFast: Bool) -> GatewayRuntime {
    let circuit = failFast ? ", circuit: { failures: 1, open_ms: 3600000 }, retries: { max_attempts: 1 }" : ""
    let yaml = """
        listen: 127.0.0.1:0
        upstream: { url: \(url), connect_timeout_ms: 2000, timeout_ms: 10000\(circuit) }
        server: { workers: 2, max_connections: 20000 }
        outbox: { path: \(path), max_bytes: 1099511627776, retry_ms: [3600000] }
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

/// One blocking keep-alive connection sending `subscribe.sms` calls, each with a juid of its own.
final class Client {
    private let connection: KeepAliveClient
    private let prefer: Bool
    private let tag: Int
    private var count = 0

    init(port: Int, prefer: Bool, tag: Int) {
        connection = KeepAliveClient(port: port, receiveTimeoutSeconds: 5)
        self.prefer = prefer
        self.tag = tag
    }

    func close() { connection.close() }

    /// The answer's status, or nil when the exchange failed.
    func exchange() -> Int? {
        count += 1
        let juid = String(format: "%08x%024x", tag, count)
        let body = "juid=\(juid)&number=8+(912)+345-67-89"
        return connection.exchange(Array(("POST /api/user/v1/subscription/subscribe/sms HTTP/1.1\r\nHost: bench\r\nX-AUTH-TOKEN: \(siteKey)\r\n"
            + (prefer ? "Prefer: respond-async\r\n" : "")
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)").utf8))
    }
}

func processCPUMicros() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + Int(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
}

@Sendable func threadCPUMicros() -> Int {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return spec.tv_sec * 1_000_000 + spec.tv_nsec / 1000
}

/// CPU the outbox writer threads (`jg-outbox`) have run, from /proc (schedstat: nanoseconds on a CPU): how much
/// of a deferral's cost is the writer's (its encoding, write and fdatasync), the rest being the event loops'.
func writerCPUMicros() -> Int {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return 0 }
    return tasks.reduce(0) { total, task in
        guard let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
              name.hasPrefix("jg-outbox"),
              let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8),
              let nanoseconds = stat.split(separator: " ").first.flatMap({ Int($0) }) else { return total }
        return total + nanoseconds / 1000
    }
}

struct Pass {
    var answered: Int
    var failed: Int
    var gatewayCPUMicros: Int
    var writerCPUMicros: Int
    var seconds: Double
    /// Every answered call's round trip as the client saw it, sorted: a deferral's includes the wait for its
    /// batch's fdatasync (and any group-commit gather), which CPU per call does not show.
    var latenciesMicros: [Int]
    var cpuPerCall: Double { answered > 0 ? Double(gatewayCPUMicros) / Double(answered) : 0 }
    var writerCPUPerCall: Double { answered > 0 ? Double(writerCPUMicros) / Double(answered) : 0 }

    func percentile(_ share: Double) -> Double {
        guard !latenciesMicros.isEmpty else { return 0 }
        return Double(latenciesMicros[min(latenciesMicros.count - 1, Int(Double(latenciesMicros.count) * share))]) / 1000
    }
}

/// Calls for `seconds` against `runtime`, counting answers with `expected` status.
func pass(_ runtime: GatewayRuntime, prefer: Bool, expected: Int, round: Int) -> Pass {
    let port = runtime.address.port
    let stop = Atomic(false)
    let totals = Mutex<(answered: Int, failed: Int, clientCPU: Int, latencies: [Int])>((0, 0, 0, []))
    let done = DispatchGroup()
    // A short warm-up outside the measurement: connections, libcurl's pool, the outbox writer.
    let warm = Client(port: port, prefer: prefer, tag: 9999)
    for _ in 0..<200 { _ = warm.exchange() }
    warm.close()
    let started = Date()
    let cpuBefore = processCPUMicros()
    let writerBefore = writerCPUMicros()
    for index in 0..<connections {
        done.enter()
        Thread {
            let threadStart = threadCPUMicros()
            let client = Client(port: port, prefer: prefer, tag: round * 1000 + index)
            var answered = 0
            var failed = 0
            var latencies: [Int] = []
            latencies.reserveCapacity(1 << 16)
            while !stop.load(ordering: .relaxed) {
                let sent = DispatchTime.now().uptimeNanoseconds
                if client.exchange() == expected {
                    answered += 1
                    latencies.append(Int((DispatchTime.now().uptimeNanoseconds - sent) / 1000))
                } else {
                    failed += 1
                }
            }
            client.close()
            let own = threadCPUMicros() - threadStart
            totals.withLock { $0.answered += answered; $0.failed += failed; $0.clientCPU += own; $0.latencies += latencies }
            done.leave()
        }.start()
    }
    usleep(UInt32(seconds) * 1_000_000)
    stop.store(true, ordering: .relaxed)
    done.wait()
    let cpu = processCPUMicros() - cpuBefore
    let writer = writerCPUMicros() - writerBefore
    let elapsed = Date().timeIntervalSince(started)
    return totals.withLock {
        Pass(answered: $0.answered, failed: $0.failed, gatewayCPUMicros: cpu - $0.clientCPU, writerCPUMicros: writer, seconds: elapsed,
             latenciesMicros: $0.latencies.sorted())
    }
}

func report(_ name: String, _ result: Pass) {
    say(String(format: "%@: %.0f calls/s, %.1f µs gateway CPU per call (outbox writer %.1f), p50 %.2f ms, p99 %.2f ms, %d failed",
                 name, Double(result.answered) / result.seconds, result.cpuPerCall, result.writerCPUPerCall,
                 result.percentile(0.5), result.percentile(0.99), result.failed))
}

var forwardedCosts: [Double] = []
var deferredCosts: [Double] = []
var deferredP50s: [Double] = []
var deferredP99s: [Double] = []
for round in 1...max(1, rounds) {
    let forwarding = gateway(upstream: upstream, outbox: "\(base)/round-\(round)/forward", failFast: false)
    let forwarded = pass(forwarding, prefer: false, expected: 200, round: round)
    forwarding.stop()
    report("round \(round) forwarded", forwarded)
    // A closed port: the first delivery fails, the circuit opens for an hour, and no later entry is attempted.
    let deferring = gateway(upstream: "http://127.0.0.1:9", outbox: "\(base)/round-\(round)/defer", failFast: true)
    let deferred = pass(deferring, prefer: true, expected: 202, round: round)
    deferring.stop()
    report("round \(round) deferred", deferred)
    forwardedCosts.append(forwarded.cpuPerCall)
    deferredCosts.append(deferred.cpuPerCall)
    deferredP50s.append(deferred.percentile(0.5))
    deferredP99s.append(deferred.percentile(0.99))
    try? FileManager.default.removeItem(atPath: "\(base)/round-\(round)")
}
let forwardedMedian = forwardedCosts.sorted()[forwardedCosts.count / 2]
let deferredMedian = deferredCosts.sorted()[deferredCosts.count / 2]
let over = deferredMedian - forwardedMedian
say(String(format: "CPU per deferral over a forwarded call: %.1f µs - %.1f µs = %+.1f µs (median of %d rounds) -> %@",
             deferredMedian, forwardedMedian, over, forwardedCosts.count,
             over <= 5 ? "PASS (at most 5 µs)" : "ABOVE TARGET (more than 5 µs)"))
say(String(format: "deferred calls' round trip (median of rounds): p50 %.2f ms, p99 %.2f ms",
           deferredP50s.sorted()[deferredP50s.count / 2], deferredP99s.sorted()[deferredP99s.count / 2]))
