#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MicroFixtures

// A cross-check of the ordo-one/benchmark numbers with nothing between the code and the clock: no
// malloc interposer (that harness routes every malloc and free through a counting wrapper), no
// framework. Same operations (MicroCases), timed with clock_gettime in batches:
//
//   1. calibrate a batch size so one batch takes about 1 ms (the clock's cost vanishes);
//   2. warm up for 0.2 s (caches, branch predictors, the allocator's free lists);
//   3. time batches for MICRO_BENCH_SECONDS (default 2) or at most 2,001 batches, at least 101;
//   4. report the median and p99 of the per-batch ns/op.
//
// Usage: PlainTiming [--json PATH] [name-substring ...]

/// Monotonic nanoseconds from clock_gettime, the clock the kernel does not step.
func nowNanos() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

/// Per-batch ns/op of one case, sorted ascending.
func measure(_ micro: MicroCase, seconds: Int) -> (batchSize: Int, samples: [Double]) {
    let loop = micro.makeLoop()
    var batch = 1
    while true {
        let start = nowNanos()
        loop(batch)
        if nowNanos() - start >= 1_000_000 || batch >= 1 << 24 { break }
        batch *= 2
    }
    let warmUntil = nowNanos() + 200_000_000
    while nowNanos() < warmUntil { loop(batch) }

    var samples: [Double] = []
    samples.reserveCapacity(2_001)
    let stopAt = nowNanos() + Int64(seconds) * 1_000_000_000
    while samples.count < 2_001 && (samples.count < 101 || nowNanos() < stopAt) {
        let start = nowNanos()
        loop(batch)
        samples.append(Double(nowNanos() - start) / Double(batch))
    }
    samples.sort()
    return (batch, samples)
}

/// Nearest-rank percentile of sorted samples.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}

/// The text with `"` and `\` escaped, enough for the fixed ASCII-and-ellipsis summaries.
func jsonEscaped(_ text: String) -> String {
    var escaped = ""
    for scalar in text.unicodeScalars {
        if scalar == "\"" || scalar == "\\" { escaped.append("\\") }
        escaped.unicodeScalars.append(scalar)
    }
    return escaped
}

func secondsPerCase() -> Int {
    guard let text = getenv("MICRO_BENCH_SECONDS"), let seconds = Int(String(cString: text)), seconds > 0 else { return 2 }
    return seconds
}

var arguments = Array(CommandLine.arguments.dropFirst())
var jsonPath: String?
if let flag = arguments.firstIndex(of: "--json"), flag + 1 < arguments.count {
    jsonPath = arguments[flag + 1]
    arguments.removeSubrange(flag...(flag + 1))
}
let selected = MicroCases.all.filter { micro in arguments.isEmpty || arguments.contains { micro.name.contains($0) } }

FixtureCheck.run()
var rows: [String] = []
print("benchmark                  median ns/op    p99 ns/op   batches x ops")
for micro in selected {
    let (batch, samples) = measure(micro, seconds: secondsPerCase())
    let median = percentile(samples, 50)
    let p99 = percentile(samples, 99)
    let name = micro.name.padding(toLength: 25, withPad: " ", startingAt: 0)
    let medianText = String(Int(median.rounded()))
    let p99Text = String(Int(p99.rounded()))
    print("\(name)  \(String(repeating: " ", count: max(0, 12 - medianText.count)))\(medianText) \(String(repeating: " ", count: max(0, 12 - p99Text.count)))\(p99Text)   \(samples.count) x \(batch)")
    let medianJSON = (median * 10).rounded() / 10
    let p99JSON = (p99 * 10).rounded() / 10
    let summary = jsonEscaped(micro.summary)
    rows.append(#"{"name":"\#(micro.name)","summary":"\#(summary)","median_ns":\#(medianJSON),"p99_ns":\#(p99JSON),"batches":\#(samples.count),"ops_per_batch":\#(batch)}"#)
}

if let jsonPath {
    let text = "[\n  " + rows.joined(separator: ",\n  ") + "\n]\n"
    guard let file = fopen(jsonPath, "w") else {
        print("PlainTiming: cannot write \(jsonPath): errno \(errno)")
        exit(1)
    }
    fputs(text, file)
    fclose(file)
}
