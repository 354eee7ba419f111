#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import JustGateCore
import Logging
import Synchronization

// Draining an outbox after an outage without starving live calls (issue 25: live p99 within 1.2x of no-drain).
//
// Fills an outbox (file backend) with `--entries` pending calls directly through the store, as an outage would
// have left them, then runs a gateway (in this process, `GatewayRuntime`, as `serve` does) against `--upstream`
// twice per round: once on an empty outbox (no drain) and once on the filled one (its event loops deliver the
// backlog), while `--connections` client threads send paced live calls (one request, an answer, `--pace-ms`
// of rest) for `--seconds`. Prints, per pass, live calls' p50/p99/max and rate, and for the drain pass the
// entries delivered per second; then the ratio of the drain passes' p99 to the no-drain passes'.
// Everything is on 127.0.0.1. The client threads share this process (and the machine) with the gateway in both
// passes alike.
//
// Usage: OutboxDrain --upstream URL --token TOKEN [--entries N] [--seconds N] [--connections N] [--pace-ms N]
//                    [--rounds N] [--dir PATH]

func option(_ name: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count,
          let value = Int(arguments[index + 1]) else { return fallback }
    return value
}

func text(_ name: String) -> String? {
    CommandLine.arguments.firstIndex(of: name).flatMap { $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("OutboxDrain: \(message)\n".utf8))
    exit(1)
}

guard let upstream = text("--upstream"), let token = text("--token") else {
    fail("usage: OutboxDrain --upstream URL --token TOKEN [--entries N] [--seconds N] [--connections N] [--pace-ms N] [--rounds N] [--dir PATH]")
}
let entries = option("--entries", 100_000)
let seconds = option("--seconds", 10)
let connections = option("--connections", 8)
let paceMs = option("--pace-ms", 5)
let rounds = option("--rounds", 1)
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

/// Keeps `count` pending calls in the outbox at `path`, in rounds that wait until durable, and closes it.
func fill(_ path: String, count: Int) {
    var config = OutboxConfig()
    config.path = path
    config.maxBytes = 1 << 40
    let store: OutboxFileStore
    do { store = try OutboxFileStore(config: config, logger: logger) } catch { fail("cannot open \(path): \(error)") }
    let refused = Atomic(0)
    var index = 0
    while index < count {
        let round = min(1000, count - index)
        let done = DispatchGroup()
        for _ in 0..<round {
            index += 1
            // Five calls per juid, so order per juid is exercised as the engines drain.
            let juid = String(format: "%032x", index / 5)
            done.enter()
            store.keep(DeferredCall(siteID: "bench", operationID: "subscribe.sms", juid: juid, method: "POST",
                                    target: "/api/user/v1/subscription/subscribe/sms",
                                    body: Array("juid=\(juid)&number=79123456789".utf8),
                                    contentType: "application/x-www-form-urlencoded", requestID: "drain-\(index)")) { result in
                if case .failure = result { refused.add(1, ordering: .relaxed) }
                done.leave()
            }
        }
        done.wait()
    }
    store.stop()
    if refused.load(ordering: .relaxed) > 0 { fail("\(refused.load(ordering: .relaxed)) entries were refused while filling") }
}

func gateway(outbox path: String) -> GatewayRuntime {
    let yaml = """
        listen: 127.0.0.1:0
        upstream: { url: \(upstream), connect_timeout_ms: 2000, timeout_ms: 10000 }
        server: { workers: 2, max_connections: 20000 }
        outbox: { path: \(path), max_bytes: 1099511627776 }
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
    private var fd: Int32 = -1
    private let port: Int
    private let request: [UInt8]

    init(port: Int) {
        self.port = port
        let body = "juid=de6f0132ea9e412599ae31262c45633b&number=8+(912)+345-67-89"
        request = Array(("POST /api/user/v1/subscription/subscribe/sms HTTP/1.1\r\nHost: bench\r\nX-AUTH-TOKEN: \(siteKey)\r\n"
            + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)").utf8)
    }

    private func connect() -> Bool {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        // A call unanswered for 2 s counts as failed rather than hanging the pass.
        var patience = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { close(); return false }
        return true
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// The answer's status, or nil when the exchange failed (the connection is then closed).
    func exchange() -> Int? {
        if fd < 0 && !connect() { return nil }
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { close(); return nil }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { close(); return nil }
            buffer.append(contentsOf: chunk[0..<got])
            guard let end = buffer.indices.dropLast(3).first(where: {
                buffer[$0] == 13 && buffer[$0 + 1] == 10 && buffer[$0 + 2] == 13 && buffer[$0 + 3] == 10
            }) else { continue }
            let head = String(decoding: buffer[0..<end], as: UTF8.self).lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
            if buffer.count - end - 4 < length { continue }
            let status = Int(head.split(separator: " ").dropFirst().first ?? "")
            if head.contains("connection: close") { close() }
            return status
        }
    }
}

struct PassResult {
    var latenciesMicros: [Int]
    var failures: Int
    var delivered: Int
    var seconds: Double

    func percentile(_ fraction: Double) -> Double {
        guard !latenciesMicros.isEmpty else { return 0 }
        let sorted = latenciesMicros.sorted()
        return Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1000
    }
}

@Sendable func nowMicros() -> Int {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return spec.tv_sec * 1_000_000 + spec.tv_nsec / 1000
}

/// Live calls against a gateway on `outbox path` for `seconds`.
func pass(outbox path: String) -> PassResult {
    let runtime = gateway(outbox: path)
    let before = runtime.outbox?.depth.pending ?? 0
    let stop = Atomic(false)
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
                if status == 200 { latencies.append(nowMicros() - started) } else { failures += 1 }
                usleep(UInt32(paceMs * 1000))
            }
            connection.close()
            collected.withLock { $0.latencies += latencies; $0.failures += failures }
            done.leave()
        }.start()
    }
    let started = nowMicros()
    usleep(UInt32(seconds) * 1_000_000)
    stop.store(true, ordering: .relaxed)
    let elapsed = Double(nowMicros() - started) / 1e6
    let after = runtime.outbox?.depth.pending ?? 0
    done.wait()
    runtime.stop()
    return collected.withLock { PassResult(latenciesMicros: $0.latencies, failures: $0.failures, delivered: before - after, seconds: elapsed) }
}

func report(_ name: String, _ result: PassResult) {
    say(String(format: "%@: live calls %.0f/s, p50 %.2f ms, p99 %.2f ms, max %.2f ms, failed %d; outbox delivered %d (%.0f/s)",
                 name, Double(result.latenciesMicros.count) / result.seconds, result.percentile(0.5), result.percentile(0.99),
                 result.percentile(1.0), result.failures, result.delivered, Double(result.delivered) / result.seconds))
}

var idle: [PassResult] = []
var draining: [PassResult] = []
for round in 1...max(1, rounds) {
    let filled = "\(base)/round-\(round)/filled"
    let empty = "\(base)/round-\(round)/empty"
    let fillStarted = nowMicros()
    fill(filled, count: entries)
    say(String(format: "round %d: filled the outbox with %d pending entries in %.1f s", round, entries,
                 Double(nowMicros() - fillStarted) / 1e6))
    let quietPass = pass(outbox: empty)
    report("round \(round) no drain", quietPass)
    idle.append(quietPass)
    let drainPass = pass(outbox: filled)
    report("round \(round) draining", drainPass)
    draining.append(drainPass)
    try? FileManager.default.removeItem(atPath: "\(base)/round-\(round)")
}
let idleP99 = idle.map { $0.percentile(0.99) }.sorted()[idle.count / 2]
let drainP99 = draining.map { $0.percentile(0.99) }.sorted()[draining.count / 2]
let ratio = idleP99 > 0 ? drainP99 / idleP99 : 0
say(String(format: "live p99 while draining / without: %.2f ms / %.2f ms = %.2fx (median of %d rounds) -> %@", drainP99, idleP99,
             ratio, idle.count, ratio <= 1.2 ? "PASS (within 1.2x)" : "ABOVE TARGET (more than 1.2x)"))
