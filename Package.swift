// swift-tools-version:6.1
import PackageDescription

/// justgate: a validating, token-injecting gateway in front of the Just Services profiles API.
///
/// Module layout (edges depend on the core, never the reverse):
/// - `JustGateHTTP`: HTTP/1.1 wire format on bytes (request parser, chunked decoder, response writer,
///   urlencoded and multipart bodies). Pure.
/// - `JustGateCore`: the operation catalogue, field rules, JSON, config model and loader, site keys,
///   problem details. Pure.
/// - `JustGateSandbox`: the emulated upstream API, as a pure request → response function with state.
/// - `JustGateServer`: the epoll event loops, listeners and connections. Edge (sockets).
/// - `JustGateUpstream`: the libcurl multi client driven from the event loops. Edge (libcurl).
/// - `JustGateRedis`: a pipelined RESP client on an event loop, for the shared rate limiter. Edge (sockets).
/// - `JustGateApp`: the request pipeline and composition of all of the above.
/// - `justgate`: the command line.
let package = Package(
    name: "justgate",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "justgate", targets: ["justgate"]),
        // The pure modules as libraries, so the fuzzing and micro-benchmark packages (Fuzz/, bench/micro/)
        // can depend on them without dragging their own tooling into this package's build.
        .library(name: "JustGateHTTP", targets: ["JustGateHTTP"]),
        .library(name: "JustGateCore", targets: ["JustGateCore"]),
        // For Fuzz/ (the RESP reply parser is fuzzed there).
        .library(name: "JustGateRedis", targets: ["JustGateRedis"]),
        // For bench/outbox (the outbox's file backend is an edge, in the app module).
        .library(name: "JustGateApp", targets: ["JustGateApp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-structured-headers", from: "1.7.0"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(name: "CLinuxSystem"),
        // libcrypto's SHA-256, justgate's only one (headers from libssl-dev; the library is libcurl's own).
        .target(name: "CSHA256", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "JustGateHTTP"),
        .target(
            name: "JustGateCore",
            dependencies: [
                "CSHA256",
                "JustGateHTTP",  // IPNetwork, for server.trusted_proxies
                .product(name: "Yams", package: "Yams"),
                .product(name: "RawStructuredFieldValues", package: "swift-http-structured-headers"),
            ]
        ),
        .target(name: "JustGateSandbox"),
        .target(name: "JustGateServer", dependencies: ["CLinuxSystem", "JustGateHTTP"]),
        .target(name: "JustGateUpstream", dependencies: ["CCurl", "JustGateServer"]),
        .target(name: "JustGateRedis", dependencies: ["JustGateServer", "JustGateCore"]),
        .target(
            name: "JustGateApp",
            dependencies: [
                "JustGateHTTP", "JustGateCore", "JustGateSandbox", "JustGateServer", "JustGateUpstream", "JustGateRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "justgate",
            dependencies: [
                "JustGateApp",
                "JustGateSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Test data shared by several test targets (the malformed-request corpus).
        .target(name: "JustGateTestSupport", path: "Tests/JustGateTestSupport"),
        .testTarget(name: "JustGateHTTPTests", dependencies: ["JustGateHTTP", "JustGateTestSupport"]),
        .testTarget(
            name: "JustGateCoreTests",
            dependencies: ["JustGateCore", .product(name: "PropertyBased", package: "swift-property-based"),
                           // swift-crypto's SHA256 and HMAC<SHA256> are the references justgate's own (libcrypto's,
                           // through CSHA256) are tested against.
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "JustGateSandboxTests", dependencies: ["JustGateSandbox"]),
        .testTarget(name: "JustGateRedisTests", dependencies: ["JustGateRedis", "JustGateCore"]),
        .testTarget(
            name: "JustGateAppTests",
            dependencies: ["JustGateApp", "JustGateUpstream", "JustGateServer", "JustGateSandbox", "JustGateTestSupport",
                           "JustGateRedis", "CTestSupport",
                           // deploy/compose.yaml is parsed as YAML by the deploy tests.
                           .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "CTestSupport", path: "Tests/CTestSupport"),
    ]
)
