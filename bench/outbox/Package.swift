// swift-tools-version:6.1
import PackageDescription

/// Deferrals per second of the outbox's file backend with group fsync (issue 25: at least 20,000/s).
///
/// A package of its own, beside the gateway, like bench/micro: `swift build` of the gateway never builds it.
/// Run it with `bash bench/outbox/run.sh`.
let package = Package(
    name: "justgate-outbox-bench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "justgate", path: "../.."),
    ],
    targets: [
        // Option parsing, output and the client threads' keep-alive connection, shared by the programs below.
        .target(name: "OutboxBenchSupport"),
        .executableTarget(
            name: "OutboxDeferrals",
            dependencies: [.product(name: "JustGateApp", package: "justgate"), "OutboxBenchSupport"]
        ),
        // Gateway CPU per deferral over a forwarded call (bench/outbox/cost.sh, also run by run.sh).
        .executableTarget(
            name: "OutboxDeferralCost",
            dependencies: [.product(name: "JustGateApp", package: "justgate"), "OutboxBenchSupport"]
        ),
        // Live-call p99 while 100,000 pending entries drain, against without (bench/outbox/drain.sh).
        .executableTarget(
            name: "OutboxDrain",
            dependencies: [.product(name: "JustGateApp", package: "justgate"), "OutboxBenchSupport"]
        ),
    ]
)
