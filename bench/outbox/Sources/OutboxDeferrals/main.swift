#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateApp
import OutboxBenchSupport
import JustGateCore
import Logging
import Synchronization

// Deferrals per second of the outbox's file backend: `PRODUCERS` threads (as event loops would) each defer
// rounds of `IN_FLIGHT` calls and wait for the round to be durable (as many requests wait for their 202), for
// `SECONDS`, into a fresh outbox under `DIR` (default: a temporary directory on the disk of /tmp). Every
// completion means the entry's batch was written and fdatasync'ed. Prints one line per run and a summary.
//
// Usage: OutboxDeferrals [--seconds N] [--producers N] [--in-flight N] [--dir PATH] [--body-bytes N]

let seconds = option("--seconds", 5)
let producers = option("--producers", 4)
let inFlight = option("--in-flight", 256)
let bodyBytes = option("--body-bytes", 120)
let base = CommandLine.arguments.firstIndex(of: "--dir").map { CommandLine.arguments[$0 + 1] }
    ?? NSTemporaryDirectory() + "justgate-outbox-bench-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: base) }

var config = OutboxConfig()
config.path = base + "/outbox"
config.maxBytes = 1 << 40
let logger = Logger(label: "outbox-bench")
let store: OutboxFileStore
do {
    store = try OutboxFileStore(config: config, logger: logger)
} catch {
    FileHandle.standardError.write(Data("cannot open the outbox: \(error)\n".utf8))
    exit(1)
}

let body = Array("juid=0123456789abcdef0123456789abcdef&email=".utf8)
    + Array(repeating: UInt8(ascii: "a"), count: max(0, bodyBytes - 44))
let acknowledged = Atomic(0)
let refused = Atomic(0)
let latencyMicros = Atomic(0)
let stop = Atomic(false)

/// A round's outstanding deferrals, shared with their completions.
final class Countdown: Sendable {
    let value: Atomic<Int>
    init(_ start: Int) { value = Atomic(start) }
}

func nowNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

let started = nowNanos()
var cpuStart = rusage()
getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &cpuStart)
var threads: [Thread] = []
let finished = DispatchGroup()
for producer in 0..<producers {
    finished.enter()
    // A producer behaves like an event loop: it defers a round of `inFlight` calls, and is woken once when the
    // last of the round is durable (the gateway's loop gets one wake-up per batch through its mailbox).
    let thread = Thread {
        let roundDone = DispatchSemaphore(value: 0)
        var index = 0
        while !stop.load(ordering: .relaxed) {
            let outstanding = Countdown(inFlight)
            for _ in 0..<inFlight {
                index += 1
                let call = DeferredCall(siteID: "bench", operationID: "subscribe.email",
                                        juid: "p\(producer)-\(index % 1000)", method: "POST",
                                        target: "/api/user/v1/subscription/subscribe/email", body: body,
                                        contentType: "application/x-www-form-urlencoded", requestID: "bench-\(index)")
                let sent = nowNanos()
                store.keep(call) { result in
                    switch result {
                    case .success:
                        acknowledged.add(1, ordering: .relaxed)
                        latencyMicros.add(Int((nowNanos() - sent) / 1000), ordering: .relaxed)
                    case .failure:
                        refused.add(1, ordering: .relaxed)
                    }
                    if outstanding.value.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { roundDone.signal() }
                }
            }
            roundDone.wait()
        }
        finished.leave()
    }
    threads.append(thread)
    thread.start()
}
sleep(UInt32(seconds))
let countAtStop = acknowledged.load(ordering: .relaxed)
let elapsed = Double(nowNanos() - started) / 1e9
stop.store(true, ordering: .relaxed)
finished.wait()
var cpuEnd = rusage()
getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &cpuEnd)
store.stop()

func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
let cpu = seconds(cpuEnd.ru_utime) - seconds(cpuStart.ru_utime) + seconds(cpuEnd.ru_stime) - seconds(cpuStart.ru_stime)
let total = acknowledged.load(ordering: .relaxed)
let rate = Double(countAtStop) / elapsed
let meanLatency = total > 0 ? Double(latencyMicros.load(ordering: .relaxed)) / Double(total) / 1000 : 0
print(String(format: "outbox file backend: %.0f deferrals/s durable (group fdatasync), %d producers x %d in flight, "
             + "%d-byte bodies, mean time to durable %.2f ms, CPU %.1f us per deferral (whole process), refused %d",
             rate, producers, inFlight, body.count, meanLatency, cpu / Double(max(total, 1)) * 1e6,
             refused.load(ordering: .relaxed)))
print(rate >= 20_000 ? "PASS: at least 20,000 deferrals/s" : "BELOW TARGET: less than 20,000 deferrals/s")
