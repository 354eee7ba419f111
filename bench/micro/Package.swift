// swift-tools-version:6.1
import PackageDescription

/// Micro-benchmarks of justgate's pure hot path (head parse, form decode, field rules, JSON).
///
/// A package of its own, beside the gateway rather than inside it, so that `swift build` of
/// the gateway never resolves or builds the benchmark framework. Run it with `bash run.sh`.
let package = Package(
    name: "justgate-micro-bench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "justgate", path: "../.."),
        // Naming the trait explicitly leaves the default "RuntimeInterposer" trait off, so the
        // swift-runtime-interposer package (not needed for wall clock or malloc counts) is never
        // resolved. The malloc counts come from malloc-interposer, which needs no jemalloc.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The inputs, the timed operations and the check that they give the right answers, shared
        // by both harnesses below.
        .target(
            name: "MicroFixtures",
            dependencies: [
                .product(name: "JustGateHTTP", package: "justgate"),
                .product(name: "JustGateCore", package: "justgate"),
            ]
        ),
        // ordo-one/benchmark harness: wall clock and malloc counts (`swift package benchmark`).
        .executableTarget(
            name: "JustGateMicro",
            dependencies: [
                "MicroFixtures",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/JustGateMicro",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Plain clock_gettime loop over the same operations, without the malloc interposer.
        .executableTarget(name: "PlainTiming", dependencies: ["MicroFixtures"]),
        // The worst input of every field rule against the 5 ms a request may hold a loop; exits 1 when over.
        .executableTarget(
            name: "WorstInputs",
            dependencies: [.product(name: "JustGateCore", package: "justgate")]
        ),
    ]
)
