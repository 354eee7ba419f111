#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Benchmark
import MicroFixtures

/// The micro-benchmarks of justgate's pure hot path (see MicroCases), timed by ordo-one/benchmark with
/// wall clock and malloc counts.
///
/// Each sample runs its operation 1,000 times (`scalingFactor: .kilo`), so the clock is read once per
/// thousand operations; the framework reports every sample per operation, so the percentiles are of
/// 1,000-operation averages. Malloc counts are per operation.
let benchmarks: @Sendable () -> Void = {
    FixtureCheck.run()

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(secondsPerBenchmark()),
        maxIterations: 1_000_000
    )

    for micro in MicroCases.all {
        // Built outside the timed closure, so a sample times the operations and nothing else.
        let loop = micro.makeLoop()
        Benchmark(micro.name) { benchmark in
            loop(benchmark.scaledIterations.count)
        }
    }
}

/// How long each benchmark samples; `MICRO_BENCH_SECONDS` shortens a smoke run or steadies a busy box.
private func secondsPerBenchmark() -> Int {
    guard let text = getenv("MICRO_BENCH_SECONDS"), let seconds = Int(String(cString: text)), seconds > 0 else { return 2 }
    return seconds
}
