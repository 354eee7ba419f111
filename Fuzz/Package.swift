// swift-tools-version:6.1
import PackageDescription

/// libFuzzer targets for justgate's pure parsers and field rules.
///
/// A package of its own, beside the gateway rather than inside it, so that `swift build` of the gateway never
/// builds these executables (each one only links with `-sanitize=fuzzer`, which supplies `main`). Build and run
/// them with `Fuzz/fuzz.sh`; see Fuzz/README.md.
let fuzzTargets = [
    "FuzzHTTPHead", "FuzzChunked", "FuzzMultipart", "FuzzURLEncoded", "FuzzJSON", "FuzzFieldRules", "FuzzRESP",
    "FuzzQuotaReply",
]

let package = Package(
    name: "justgate-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "justgate", path: ".."),
    ],
    targets: [
        // Assertions and buffer helpers shared by every target.
        .target(name: "FuzzSupport"),
        // `<Module>_main` for each target, the symbol SwiftPM aliases `main` to; see FuzzEntry.c.
        .target(name: "FuzzEntry"),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                "FuzzSupport", "FuzzEntry",
                .product(name: "JustGateHTTP", package: "justgate"),
                .product(name: "JustGateCore", package: "justgate"),
                .product(name: "JustGateRedis", package: "justgate"),
            ],
            // No main.swift and no @main: libFuzzer's runtime provides `main` and calls LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
